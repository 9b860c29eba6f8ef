// The job port's stream (ttyS1, QEMU's standard output): marker lines with the boot's nonce, and job output between
// them. Kept apart from the VM's process handling so that it can be tested on any chunking.
export interface MarkerHandlers {
  onBoot(release: string): void;
  onBegin(id: string, pid: number): void;
  onOutput(text: string): void;
  onEnd(id: string, status: number): void;
}

/**
 * Splits the job port's stream into markers and job output, line by line. The init writes a newline before each
 * end marker (a job's last line may lack one): that newline is not the job's, so one pending newline is held back.
 */
export class MarkerStream {
  private partial = '';
  private pendingNewline = false;
  private inJob = false;

  constructor(
    private readonly prefix: string,
    private readonly handlers: MarkerHandlers,
  ) {}

  push(chunk: string): void {
    this.partial += chunk;
    let newline: number;
    let out = '';
    while ((newline = this.partial.indexOf('\n')) >= 0) {
      let line = this.partial.slice(0, newline);
      this.partial = this.partial.slice(newline + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.startsWith(`${this.prefix} `)) {
        if (out) this.handlers.onOutput(out);
        out = '';
        this.marker(line.slice(this.prefix.length + 1));
        continue;
      }
      if (!this.inJob) continue;
      if (this.pendingNewline) out += '\n';
      out += line;
      this.pendingNewline = true;
    }
    if (out) this.handlers.onOutput(out);
  }

  end(): void {
    // Cut off inside a job (no end marker): the newline held back was the job's own.
    if (this.inJob && (this.partial || this.pendingNewline)) this.handlers.onOutput(`${this.pendingNewline ? '\n' : ''}${this.partial}`);
    this.partial = '';
  }

  private marker(text: string): void {
    const [word, id = '', status = ''] = text.split(' ');
    if (word === 'boot') this.handlers.onBoot(text.slice('boot '.length));
    else if (word === 'begin') {
      this.inJob = true;
      this.pendingNewline = false;
      this.handlers.onBegin(id, Number(status));
    } else if (word === 'end') {
      this.inJob = false;
      this.pendingNewline = false;
      this.handlers.onEnd(id, Number(status));
    }
  }
}

