// A typed view of the extension's settings. Every setting is read here, nowhere else.
import * as vscode from 'vscode';

const SECTION = 'ciliumCustom';

export class Config {
  private get raw(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  get makeDirectory(): string | undefined {
    const value = this.raw.get<string>('build.makeDirectory', '').trim();
    return value === '' ? undefined : value;
  }

  get makeCommand(): string {
    return this.raw.get<string>('build.makeCommand', 'make').trim() || 'make';
  }

  get extraMakeVariables(): Record<string, string> {
    const value = this.raw.get<Record<string, unknown>>('build.extraMakeVariables', {});
    return Object.fromEntries(Object.entries(value ?? {}).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }

  affects(event: vscode.ConfigurationChangeEvent): boolean {
    return event.affectsConfiguration(SECTION);
  }
}
