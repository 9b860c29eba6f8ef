// One object owns everything the extension creates, so that deactivation disposes of all of it.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Config } from './config';
import { Log } from './log';

export class CiliumCustomContext implements vscode.Disposable {
  readonly subscriptions: vscode.Disposable[] = [];
  readonly log: Log;
  readonly config = new Config();
  /** Compiler diagnostics from builds (source "clang"). */
  readonly buildDiagnostics: vscode.DiagnosticCollection;
  /** The SDK shipped in the extension's bpf/ folder. */
  readonly bundledSdkDir: string;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.own(new Log());
    this.buildDiagnostics = this.own(vscode.languages.createDiagnosticCollection('cilium-custom'));
    this.bundledSdkDir = path.join(extension.extensionPath, 'bpf');
  }

  own<T extends vscode.Disposable>(disposable: T): T {
    this.subscriptions.push(disposable);
    return disposable;
  }

  dispose(): void {
    for (const disposable of this.subscriptions.splice(0).reverse()) {
      try {
        disposable.dispose();
      } catch {
        // Keep disposing the rest.
      }
    }
  }
}
