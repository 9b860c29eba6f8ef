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

  /**
   * Why a command failed. A problem the user can act on (a missing tool, a bad setting, a refused attach: our own
   * problem classes and plain errors with a message) is one line with its fix; only a bug in the extension (a
   * TypeError and the like) gets its stack trace, so that it can be reported.
   */
  failure(context: string, error: unknown): void {
    if (isInternalError(error)) {
      this.channel.error(`${context}: internal error: ${error.stack ?? `${error.name}: ${error.message}`}`);
      return;
    }
    this.channel.error(`${context}: ${describeError(error)}`);
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

/** JavaScript's own error types are what a bug throws; everything else was thrown on purpose, with a message. */
export function isInternalError(error: unknown): error is Error {
  return (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError ||
    error instanceof EvalError ||
    error instanceof URIError ||
    (error instanceof Error && error.message === '')
  );
}

/** An error's message, with its fix when it carries one (VerifyProblem, CustomCallsProblem...). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const fix = (error as { fix?: unknown }).fix;
  return typeof fix === 'string' && fix !== '' && !error.message.includes(fix) ? `${error.message} ${fix}` : error.message;
}
