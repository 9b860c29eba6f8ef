// The target commands run on: "local" or one of the ciliumCustom.targets, picked from a status-bar item. Targets
// live as long as the settings that made them, so an SSH target's shared connection is reused across verifies.
import * as vscode from 'vscode';
import { createTarget, type Target } from '../../core/target';
import { LOCAL_TARGET_NAME, targetConfigFromSetting, type TargetSetting } from '../../core/target/targetSettings';
import type { CiliumCustomContext } from '../context';

const ACTIVE_TARGET_KEY = 'ciliumCustom.activeTarget';

export class TargetManager implements vscode.Disposable {
  private readonly statusItem: vscode.StatusBarItem;
  private cache = new Map<string, Target>();

  constructor(private readonly ctx: CiliumCustomContext) {
    this.statusItem = vscode.window.createStatusBarItem('ciliumCustom.target', vscode.StatusBarAlignment.Left, 10);
    this.statusItem.name = 'Cilium Custom Target';
    this.statusItem.command = 'ciliumCustom.selectTarget';
    ctx.own(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!ctx.config.affects(event)) return;
        void this.closeAll();
        this.refreshStatus();
      }),
    );
    this.refreshStatus();
    this.statusItem.show();
  }

  get activeName(): string {
    const stored = this.ctx.extension.workspaceState.get<string>(ACTIVE_TARGET_KEY, LOCAL_TARGET_NAME);
    return stored === LOCAL_TARGET_NAME || this.settings().some((s) => s.name === stored) ? stored : LOCAL_TARGET_NAME;
  }

  /** The setting behind a target name; "local" is this machine with the local settings. */
  setting(name = this.activeName): TargetSetting {
    if (name === LOCAL_TARGET_NAME) {
      return { name, bpftool: this.ctx.config.localBpftool, sudo: this.ctx.config.localSudo, bpffsRoot: this.ctx.config.localBpffsRoot };
    }
    const found = this.settings().find((s) => s.name === name);
    if (!found) throw new Error(`no target named ${JSON.stringify(name)} in ciliumCustom.targets`);
    return found;
  }

  /** The active target, created on first use and kept for reuse. */
  active(): Target {
    const name = this.activeName;
    let target = this.cache.get(name);
    if (!target) {
      target = createTarget(targetConfigFromSetting(this.setting(name)));
      this.cache.set(name, target);
    }
    return target;
  }

  async select(name?: string): Promise<string | undefined> {
    const names = [LOCAL_TARGET_NAME, ...this.settings().map((s) => s.name)];
    const choice =
      name ??
      (
        await vscode.window.showQuickPick(
          names.map((n) => ({ label: n, description: n === LOCAL_TARGET_NAME ? 'this machine' : this.setting(n).host, picked: n === this.activeName })),
          { title: 'Cilium Custom: target for verify and attach', placeHolder: 'Add SSH targets in the ciliumCustom.targets setting' },
        )
      )?.label;
    if (choice === undefined) return undefined;
    if (!names.includes(choice)) throw new Error(`no target named ${JSON.stringify(choice)}; add it to ciliumCustom.targets`);
    await this.ctx.extension.workspaceState.update(ACTIVE_TARGET_KEY, choice);
    this.refreshStatus();
    return choice;
  }

  private settings(): TargetSetting[] {
    return this.ctx.config.targets;
  }

  private refreshStatus(): void {
    const name = this.activeName;
    this.statusItem.text = `$(server) ${name}`;
    this.statusItem.tooltip = `Cilium Custom: verify and attach run on ${name === LOCAL_TARGET_NAME ? 'this machine' : name}. Click to change.`;
  }

  private async closeAll(): Promise<void> {
    const targets = [...this.cache.values()];
    this.cache = new Map();
    await Promise.all(targets.map((t) => t.dispose()));
  }

  dispose(): void {
    void this.closeAll();
    this.statusItem.dispose();
  }
}
