// Reads one `bpftool -j map dump` as it streams, straight into the SampleStore: each entry is parsed, reduced to
// its key and numbers (dumpElement.ts) and written to its ring, and nothing of it is kept (no list of a sample's
// entries, no JSON text: the garbage dies young). A dump that turns out incomplete or failed is abandoned, as if
// never begun. Shared by a single dump (MapSampler.sampleOnce) and by the dump loop, whose output is many dumps.
import { bpftoolError } from '../bpftoolJson';
import { EntryScanner } from '../entryScanner';
import { decodeDumpElement, decodeScalarElementText, type DecodedElement } from './dumpElement';
import type { HexEntry } from '../bpftoolJson';
import type { SampleStore } from './sampleStore';

/** Enough of a dump that is not an array to show bpftool's own error object. */
const HEAD_CHARS = 4096;

export type KeyLabeler = (decoded: DecodedElement & { entry?: HexEntry }, raw: unknown) => string;

export class DumpReader {
  entries = 0;
  skipped = 0;
  /** When the first non-blank output arrived (ms since the epoch): the sample's time. */
  startedAt: number | undefined;
  private readonly scanner: EntryScanner;
  private head = '';

  constructor(
    private readonly store: SampleStore,
    labelOf: KeyLabeler,
  ) {
    this.scanner = new EntryScanner(0, Infinity, (text) => {
      const scalar = decodeScalarElementText(text);
      if (scalar) {
        this.entries++;
        // The full parse only for a key the store has not seen (its label).
        store.put(scalar.id, () => this.labelFromText(text, scalar.id, labelOf), scalar.value);
        return;
      }
      let raw: unknown;
      try {
        raw = JSON.parse(text);
      } catch {
        this.skipped++;
        return;
      }
      const decoded = decodeDumpElement(raw);
      if (!decoded) {
        this.skipped++;
        return;
      }
      this.entries++;
      // The label is made only for a key the store has not seen.
      store.put(decoded.id, () => labelOf(decoded, raw), decoded.value);
    });
  }

  private labelFromText(text: string, id: string, labelOf: KeyLabeler): string {
    try {
      const raw: unknown = JSON.parse(text);
      const decoded = decodeDumpElement(raw);
      if (decoded) return labelOf(decoded, raw);
    } catch {
      // Read by the text path but no JSON after all: the key's bytes are its label.
    }
    return id;
  }

  push(chunk: string): void {
    if (this.startedAt === undefined) {
      if (chunk.trim() === '') return;
      this.startedAt = Date.now();
      this.store.begin(this.startedAt);
    }
    if (this.head.length < HEAD_CHARS) this.head += chunk.slice(0, HEAD_CHARS - this.head.length);
    this.scanner.push(chunk);
  }

  /** Commits the sample, or abandons it when `failure` is given or the output was no complete dump; says why. */
  finish(failure?: string): string | undefined {
    const problem = failure ?? this.problem();
    if (problem) this.store.abandon();
    else this.store.commit();
    return problem;
  }

  private problem(): string | undefined {
    if (this.startedAt === undefined) return 'bpftool printed nothing';
    if (this.scanner.error) return bpftoolError(this.head) ?? `bpftool printed something that is not a JSON array (${this.scanner.error})`;
    if (!this.scanner.done) return 'the dump ended early';
    return undefined;
  }
}
