// Splits a streamed JSON array (`[{...},{...}]`, as `bpftool -j map dump` prints it) into the text of its
// top-level elements as they arrive, so a caller can stop reading after the first page of a large map.
export class JsonArrayStream {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;
  private current = '';
  private finished = false;
  /** Set when the input does not look like a JSON array. */
  error: string | null = null;
  count = 0;

  constructor(private readonly onElement: (text: string, index: number) => void) {}

  get done(): boolean {
    return this.finished;
  }

  push(chunk: string): void {
    for (const ch of chunk) {
      if (this.finished || this.error) return;
      if (!this.started) {
        if (/\s/.test(ch)) continue;
        if (ch !== '[') {
          this.error = `expected a JSON array, got ${JSON.stringify(ch)}`;
          return;
        }
        this.started = true;
        continue;
      }
      if (this.inString) {
        this.current += ch;
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (this.depth === 0) {
        if (ch === ']') {
          this.emit();
          this.finished = true;
          continue;
        }
        if (ch === ',') {
          this.emit();
          continue;
        }
      }
      if (ch === '"') this.inString = true;
      else if (ch === '{' || ch === '[') this.depth++;
      else if (ch === '}' || ch === ']') this.depth--;
      if (this.depth < 0) {
        this.error = 'unbalanced brackets';
        return;
      }
      this.current += ch;
    }
  }

  private emit(): void {
    const text = this.current.trim();
    this.current = '';
    if (text === '') return;
    this.onElement(text, this.count++);
  }
}
