// A typed view of the extension's settings. Every setting is read here, nowhere else.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BuildSettings } from '../core/build/settings';
import type { TargetSetting } from '../core/target/targetSettings';
import type { VerifierLogLevel } from '../core/verify/verifyObject';

const SECTION = 'ciliumCustom';

export class Config {
  private get raw(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  /** Absolute: a relative setting is taken from the (first) workspace folder, not the extension host's cwd. */
  get makeDirectory(): string | undefined {
    const value = this.raw.get<string>('build.makeDirectory', '').trim();
    if (value === '') return undefined;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    return folder !== undefined ? path.resolve(folder, value) : value;
  }

  /** The one settings object build, verify and attach all take (core/build/settings.ts). */
  buildSettings(bundledSdkDir: string): BuildSettings {
    const makeDirSetting = this.makeDirectory;
    return {
      bundledSdkDir,
      ...(makeDirSetting !== undefined ? { makeDirSetting } : {}),
      make: this.makeCommand,
      extraVariables: this.extraMakeVariables,
      timeoutMs: this.verifyTimeoutMs,
    };
  }

  get makeCommand(): string {
    return this.raw.get<string>('build.makeCommand', 'make').trim() || 'make';
  }

  get extraMakeVariables(): Record<string, string> {
    const value = this.raw.get<Record<string, unknown>>('build.extraMakeVariables', {});
    return Object.fromEntries(Object.entries(value ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }

  /** Entries are validated where they are used, so one bad entry cannot hide the others. */
  get targets(): TargetSetting[] {
    const value = this.raw.get<unknown[]>('targets', []);
    return (Array.isArray(value) ? value : []).filter(
      (entry): entry is TargetSetting => typeof entry === 'object' && entry !== null && typeof (entry as { name?: unknown }).name === 'string',
    );
  }

  get localBpftool(): string {
    return this.raw.get<string>('local.bpftoolPath', 'bpftool').trim() || 'bpftool';
  }

  get localSudo(): boolean {
    return this.raw.get<boolean>('local.sudo', false);
  }

  get localBpffsRoot(): string {
    return this.raw.get<string>('local.bpffsRoot', '/sys/fs/bpf').trim() || '/sys/fs/bpf';
  }

  get verifierLogLevel(): VerifierLogLevel {
    // verify.detail needs the whole (level-2) log.
    if (this.verifyDetail) return 'verbose';
    return this.raw.get<string>('verify.logLevel', 'verbose') === 'errors-only' ? 'errors-only' : 'verbose';
  }

  /** Show what the verifier saw (heat map, CodeLens, hovers, Verifier Path view) after each verify. */
  get verifyDetail(): boolean {
    return this.raw.get<boolean>('verify.detail', false) === true;
  }

  /** The kernels "Verify on Kernel Matrix" asks (cached kernel names or versions, "host"); empty: pick each time. */
  get verifyKernels(): string[] {
    const value = this.raw.get<unknown>('verify.kernels', []);
    return Array.isArray(value) ? value.filter((k): k is string => typeof k === 'string' && k.trim() !== '').map((k) => k.trim()) : [];
  }

  /** How long an idle kernel VM is kept for the next matrix verify; 0: not kept. */
  get vmIdleMs(): number {
    const seconds = this.raw.get<number>('verify.vmIdleSeconds', 300);
    return Number.isFinite(seconds) ? Math.max(0, seconds) * 1000 : 300_000;
  }

  get verifyTimeoutMs(): number {
    const seconds = this.raw.get<number>('verify.timeoutSeconds', 300);
    return Math.max(1, seconds) * 1000;
  }

  /** argv that lists Cilium endpoints (in Kubernetes: through kubectl exec into the agent pod). */
  get ciliumCommand(): string[] | undefined {
    const value = this.raw.get<unknown>('endpoints.ciliumCommand', []);
    return Array.isArray(value) && value.length > 0 && value.every((w) => typeof w === 'string') ? (value as string[]) : undefined;
  }

  /** Where attach pins our programs and maps; undefined: <bpffs>/cilium-custom. */
  get pinPrefix(): string | undefined {
    const value = this.raw.get<string>('attach.pinPrefix', '').trim();
    return value === '' ? undefined : value;
  }

  mapDirectories(bpffsRoot: string): string[] | undefined {
    const value = this.raw.get<unknown>('maps.directories', []);
    const dirs = Array.isArray(value) ? value.filter((d): d is string => typeof d === 'string' && d.trim() !== '') : [];
    return dirs.length ? dirs.map((d) => (d.startsWith('/') ? d : `${bpffsRoot.replace(/\/+$/, '')}/${d}`)) : undefined;
  }

  get mapPageSize(): number {
    return Math.min(10_000, Math.max(1, this.raw.get<number>('maps.pageSize', 100)));
  }

  get mapAutoRefreshSeconds(): number {
    return Math.max(0, this.raw.get<number>('maps.autoRefreshSeconds', 0));
  }

  /** Watch Map's sample interval (ms), 100 ms to 1 h. */
  get watchIntervalMs(): number {
    const value = this.raw.get<number>('watch.intervalMs', 1000);
    return typeof value === 'number' && Number.isFinite(value) ? Math.min(3_600_000, Math.max(100, Math.round(value))) : 1000;
  }

  /** Run a header's test cases when it (or its .test.json) is saved. */
  get testRunOnSave(): boolean {
    return this.raw.get<boolean>('test.runOnSave', false) === true;
  }

  get offerCompileCommands(): boolean {
    return this.raw.get<boolean>('clangd.offerCompileCommands', true);
  }

  affects(event: vscode.ConfigurationChangeEvent): boolean {
    return event.affectsConfiguration(SECTION);
  }
}
