// The target commands run on: "local" or one of the ciliumCustom.targets, picked from a status-bar item. Targets
// live as long as the settings that made them, so an SSH target's shared connection is reused across verifies.
import * as vscode from 'vscode';
import { createTarget, type Target } from '../../core/target';
import { LOCAL_TARGET_NAME, targetConfigFromSetting, type TargetSetting } from '../../core/target/targetSettings';
import type { CiliumCustomContext } from '../context';

const ACTIVE_TARGET_KEY = 'ciliumCustom.activeTarget';
/** The setting SSH targets are added in; the picker's last item and its gear button open it. */
export const TARGETS_SETTING = 'ciliumCustom.targets';

/** An item of the target picker: a target, or the entry that opens the ciliumCustom.targets setting. */
export interface TargetPickItem extends vscode.QuickPickItem {
  target?: string;
  openSetting?: boolean;
}

export class TargetManager implements vscode.Disposable {
  private readonly statusItem: vscode.StatusBarItem;
  private cache = new Map<string, Target>();
  private readonly pickerShown = new vscode.EventEmitter<vscode.QuickPick<TargetPickItem>>();
  /** Fires when the target picker opens (tests drive it through this). */
  readonly onDidShowPicker = this.pickerShown.event;

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
    ctx.closeOnDeactivate(() => this.closeAll());
    this.refreshStatus();
    // Not in every C++ project the extension activates in: only where there are custom programs.
    ctx.whenInScope(() => this.statusItem.show());
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
    const picked: TargetPickItem | undefined = name === undefined ? await this.pick(names) : { label: name, target: name };
    if (picked?.openSetting) {
      await vscode.commands.executeCommand('workbench.action.openSettings', TARGETS_SETTING);
      return undefined;
    }
    const choice = picked?.target;
    if (choice === undefined) return undefined;
    if (!names.includes(choice)) throw new Error(`no target named ${JSON.stringify(choice)}; add it to ciliumCustom.targets`);
    await this.ctx.extension.workspaceState.update(ACTIVE_TARGET_KEY, choice);
    this.refreshStatus();
    return choice;
  }

  /** The picker: the targets, then an item (and a title button) that opens the ciliumCustom.targets setting. */
  private pick(names: string[]): Promise<TargetPickItem | undefined> {
    const picker = vscode.window.createQuickPick<TargetPickItem>();
    picker.title = 'Cilium Custom: target for verify and attach';
    picker.placeholder = 'local, or an SSH target from the ciliumCustom.targets setting';
    const targets: TargetPickItem[] = names.map((n) => ({
      label: n,
      description: `${n === LOCAL_TARGET_NAME ? 'this machine' : this.setting(n).host}${n === this.activeName ? ' (active)' : ''}`,
      target: n,
    }));
    const openSetting: TargetPickItem = {
      label: '$(gear) Add or edit SSH targets...',
      description: `opens the ${TARGETS_SETTING} setting`,
      alwaysShow: true,
      openSetting: true,
    };
    picker.items = [...targets, { label: '', kind: vscode.QuickPickItemKind.Separator }, openSetting];
    picker.activeItems = targets.filter((t) => t.target === this.activeName);
    picker.buttons = [{ iconPath: new vscode.ThemeIcon('gear'), tooltip: `Add SSH targets in the ${TARGETS_SETTING} setting` }];
    return new Promise((resolve) => {
      let result: TargetPickItem | undefined;
      picker.onDidAccept(() => {
        result = picker.selectedItems[0] ?? picker.activeItems[0];
        picker.hide();
      });
      picker.onDidTriggerButton(() => {
        result = openSetting;
        picker.hide();
      });
      picker.onDidHide(() => {
        picker.dispose();
        resolve(result);
      });
      picker.show();
      this.pickerShown.fire(picker);
    });
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
    // The targets themselves close through ctx.closeOnDeactivate, which deactivation awaits.
    this.statusItem.dispose();
    this.pickerShown.dispose();
  }
}
