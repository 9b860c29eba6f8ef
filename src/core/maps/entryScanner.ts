// Finds the top-level elements of a streamed JSON array (`[{...},{...}]`, as `bpftool -j map dump` prints it) and
// hands over the text of only those in a window [from, to): a page of a 100k-entry map is 39 MB of JSON of which a
// page needs 40 KB. Elements outside the window are counted, never copied: the scan walks character codes and jumps
// through strings with indexOf, so paging deep into a map costs about what reading bpftool's output costs.
//
// An element ends at a `,` or `]` outside strings and brackets; its text is trimmed, and an empty one (`[]`, `[,]`)
// is no element. Input that is not an array (`{"error": ...}`) sets `error`, and so do unbalanced brackets.
export class EntryScanner {
  /** Set when the input does not look like a JSON array. */
  error: string | null = null;
  /** Elements seen so far (complete ones: their `,` or `]` has arrived). */
  count = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;
  private finished = false;
  /** Whether the current element has anything but whitespace yet. */
  private content = false;
  /** The current element's text from earlier chunks, while it is one of the wanted ones. */
  private parts: string[] = [];

  /**
   * @param from first wanted element (index from 0)
   * @param to one past the last wanted element (Infinity: all)
   * @param onElement called with each wanted element's trimmed text and index
   * @param stopAt stop scanning (done) once this many elements have been seen; default: at the end of the array
   */
  constructor(
    private readonly from: number,
    private readonly to: number,
    private readonly onElement: (text: string, index: number) => void,
    private readonly stopAt = Infinity,
  ) {}

  /** True once the array ended (or `stopAt` elements were seen): later input is ignored. */
  get done(): boolean {
    return this.finished;
  }

  push(chunk: string): void {
    if (this.finished || this.error) return;
    const n = chunk.length;
    let i = 0;
    if (!this.started) {
      while (i < n && isSpace(chunk.charCodeAt(i))) i++;
      if (i === n) return;
      if (chunk.charCodeAt(i) !== 0x5b /* [ */) {
        this.error = `expected a JSON array, got ${JSON.stringify(chunk[i])}`;
        return;
      }
      this.started = true;
      i++;
    }
    /** Where the current element's text starts in this chunk. */
    let start = i;
    let wanted = this.count >= this.from && this.count < this.to;
    /** The next backslash at or after i (-1: none left in this chunk); strings are skipped with indexOf. */
    let backslash = -2;
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        const quote = chunk.indexOf('"', i);
        if (backslash !== -1 && backslash < i) backslash = chunk.indexOf('\\', i);
        if (backslash !== -1 && (quote === -1 || backslash < quote)) {
          // An escape before the closing quote: skip the backslash and the character it escapes.
          if (backslash + 1 >= n) {
            this.escaped = true;
            i = n;
          } else i = backslash + 2;
          continue;
        }
        if (quote === -1) {
          i = n;
          break;
        }
        this.inString = false;
        i = quote + 1;
        continue;
      }
      const c = chunk.charCodeAt(i);
      if (c === 0x22 /* " */) {
        this.inString = true;
        this.content = true;
      } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
        this.depth++;
        this.content = true;
      } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        if (this.depth === 0 && c === 0x5d) {
          this.endElement(chunk, start, i, wanted);
          this.finished = true;
          return;
        }
        if (--this.depth < 0) {
          this.error = 'unbalanced brackets';
          return;
        }
      } else if (c === 0x2c /* , */ && this.depth === 0) {
        this.endElement(chunk, start, i, wanted);
        if (this.finished) return;
        start = i + 1;
        wanted = this.count >= this.from && this.count < this.to;
      } else if (!this.content && !isSpace(c)) {
        this.content = true;
      }
      i++;
    }
    if (wanted && start < n) this.parts.push(chunk.slice(start));
  }

  private endElement(chunk: string, start: number, end: number, wanted: boolean): void {
    if (this.content) {
      const index = this.count++;
      if (wanted) {
        const tail = chunk.slice(start, end);
        const text = this.parts.length ? this.parts.join('') + tail : tail;
        this.onElement(text.trim(), index);
      }
      if (this.count >= this.stopAt) this.finished = true;
    }
    this.parts = [];
    this.content = false;
  }
}

/** What String.prototype.trim() drops (JSON whitespace and the Unicode spaces), so empty elements are judged alike. */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0b || c === 0x0c || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029 || (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x202f || c === 0x205f || c === 0x3000;
}
