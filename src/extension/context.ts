// One object owns everything the extension creates, so that deactivation disposes of all of it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { VmPool } from '../core/kernels/vmPool';
import { Config } from './config';
import { Log } from './log';
import { TargetManager } from './targets/targetManager';
import { Results } from './verify/results';
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
  /** Each header's last build and verify result: the status item of the active header, stale marking (verify/results.ts). */
  readonly results: Results;
  /** Kernel VMs kept warm between matrix verifies; all of them end with the extension (see disposeAsync). */
  readonly vmPool: VmPool;
  /** Work that deactivation waits for: VMs and SSH connections shutting down. */
  private readonly closers: Array<() => Promise<void>> = [];
  private closing: Promise<unknown> = Promise.resolve();
  private scoped = false;
  private scopeListeners: (() => void)[] = [];

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = this.own(new Log());
    this.buildDiagnostics = this.own(vscode.languages.createDiagnosticCollection('cilium-custom'));
    this.verifierDiagnostics = this.own(vscode.languages.createDiagnosticCollection('cilium-custom-verifier'));
    this.bundledSdkDir = path.join(extension.extensionPath, 'bpf');
    this.targets = this.own(new TargetManager(this));
    this.views = new Views(this);
    this.results = this.own(new Results(this));
    this.vmPool = new VmPool({ idleMs: this.config.vmIdleMs });
    this.closers.push(() => this.vmPool.closeAll());
    this.own(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('ciliumCustom.verify.vmIdleSeconds')) this.vmPool.setIdleMs(this.config.vmIdleMs);
      }),
    );
  }

  /** Registers shutdown work that deactivation waits for (e.g. closing SSH control sockets). */
  closeOnDeactivate(closer: () => Promise<void>): void {
    this.closers.push(closer);
  }

  /** Disposes of everything, then waits for the registered shutdown work (VS Code waits for deactivate's promise). */
  async disposeAsync(): Promise<void> {
    this.dispose();
    await this.closing;
  }

  /** Where the next verifier log of a header goes: one file per header in the extension's storage. */
  nextLogFile(headerPath: string): string {
    const dir = path.join(this.extension.globalStorageUri.fsPath, 'verifier-logs');
    fs.mkdirSync(dir, { recursive: true });
    return path.join(dir, `${path.basename(headerPath, '.h').replace(/[^A-Za-z0-9_.-]/g, '_')}.bpflog`);
  }

  /**
   * True once this window has shown a custom program: one is open, or the workspace holds a landing program or a
   * bpf/custom Makefile (see main.ts). The extension also activates for every header opened as C++, so what it
   * shows on its own (the target's status item) waits for this; commands and views work regardless.
   */
  get inScope(): boolean {
    return this.scoped;
  }

  /** Calls `listener` once the window is in scope (at once if it is already). */
  whenInScope(listener: () => void): void {
    if (this.scoped) listener();
    else this.scopeListeners.push(listener);
  }

  enterScope(reason: string): void {
    if (this.scoped) return;
    this.scoped = true;
    this.log.info(`custom programs here: ${reason}`);
    for (const listener of this.scopeListeners.splice(0)) listener();
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
    const closers = this.closers.splice(0);
    if (closers.length) this.closing = Promise.all(closers.map((close) => close().catch(() => undefined)));
  }
}
