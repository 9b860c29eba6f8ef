// The extension's one log output channel ("Cilium Custom"), with levels the user can filter.
import * as vscode from 'vscode';

export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor(name = 'Cilium Custom') {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }

  info(message: string): void {
    this.channel.info(message);
  }

  warn(message: string): void {
    this.channel.warn(message);
  }

  error(message: string): void {
    this.channel.error(message);
  }

  /** Raw tool output (make, clang, bpftool), kept line by line so it stays readable. */
  output(chunk: string): void {
    for (const line of chunk.split(/\r?\n/)) if (line !== '') this.channel.trace(line);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
