// One object owns everything the extension creates, so that deactivation disposes of all of it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Config } from './config';
import { Log } from './log';
import { TargetManager } from './targets/targetManager';
import { Views } from './views/views';

export class CiliumCustomContext implements vscode.Disposable {
  readonly subscriptions: vscode.Disposable[] = [];
  readonly log: Log;
  readonly config = new Config();
  /** Compiler diagnostics from builds (source "clang"). */
  readonly buildDiagnostics: vscode.DiagnosticCollection;
  /** The kernel verifier's verdicts (source "bpf-verifier"). */
  readonly verifierDiagnostics: vscode.DiagnosticCollection;
  /** The SDK shipped in the extension's bpf/ folder. */
  readonly bundledSdkDir: string;
  readonly targets: TargetManager;
  readonly views: Views;
  /** The log of the last verification, for "Show Verifier Log". */
  lastVerifierLog: string | undefined;
  private readonly verdictItem: vscode.StatusBarItem;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.own(new Log());
    this.buildDiagnostics = this.own(vscode.languages.createDiagnosticCollection('cilium-custom'));
    this.verifierDiagnostics = this.own(vscode.languages.createDiagnosticCollection('cilium-custom-verifier'));
    this.bundledSdkDir = path.join(extension.extensionPath, 'bpf');
    this.targets = this.own(new TargetManager(this));
    this.views = new Views(this);
    this.verdictItem = this.own(vscode.window.createStatusBarItem('ciliumCustom.verdict', vscode.StatusBarAlignment.Left, 9));
    this.verdictItem.name = 'Cilium Custom Verifier';
    this.verdictItem.command = 'ciliumCustom.showVerifierLog';
  }

  /** Where the next verifier log of a header goes: one file per header in the extension's storage. */
  nextLogFile(headerPath: string): string {
    const dir = path.join(this.extension.globalStorageUri.fsPath, 'verifier-logs');
    fs.mkdirSync(dir, { recursive: true });
    return path.join(dir, `${path.basename(headerPath, '.h').replace(/[^A-Za-z0-9_.-]/g, '_')}.bpflog`);
  }

  /** The last verdict and its figures, in the status bar. */
  showVerdict(text: string, tooltip: string): void {
    this.verdictItem.text = text;
    this.verdictItem.tooltip = `${tooltip} (click for the log)`;
    this.verdictItem.show();
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
