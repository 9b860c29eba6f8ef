// Splits a streamed JSON array (`[{...},{...}]`, as `bpftool -j map dump` prints it) into the text of its
// top-level elements as they arrive, so a caller can stop reading after the first page of a large map. Every element
// is handed over; EntryScanner (which this wraps) hands over only a window and counts the rest without copying them.
import { EntryScanner } from './entryScanner';

export class JsonArrayStream {
  private readonly scanner: EntryScanner;

  constructor(onElement: (text: string, index: number) => void) {
    this.scanner = new EntryScanner(0, Infinity, onElement);
  }

  /** Set when the input does not look like a JSON array. */
  get error(): string | null {
    return this.scanner.error;
  }

  get count(): number {
    return this.scanner.count;
  }

  get done(): boolean {
    return this.scanner.done;
  }

  push(chunk: string): void {
    this.scanner.push(chunk);
  }
}
