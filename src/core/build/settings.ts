// The build settings, as one object: what build, verify and attach all need to build a header the same way. The
// editor reads them in one place (extension/config.ts), the CLI from one set of flags (cli/buildCli.ts), and every
// request type extends this interface, so that no caller copies fields one by one and forgets one (attach once
// built without the extra make variables).
export interface BuildSettings {
  /** The SDK shipped with us (its bpf/ folder). */
  bundledSdkDir: string;
  /** The ciliumCustom.build.makeDirectory setting or the CLI's --make-dir; relative: from the current directory. */
  makeDirSetting?: string;
  /** The make command (default `make`). */
  make?: string;
  /** More make command-line variables (ciliumCustom.build.extraMakeVariables, --make-var NAME=VALUE). */
  extraVariables?: Record<string, string>;
  /** Give up on make, and on the verification that follows, after this long (default: no limit). */
  timeoutMs?: number;
}

const KEYS = ['bundledSdkDir', 'makeDirSetting', 'make', 'extraVariables', 'timeoutMs'] as const satisfies readonly (keyof BuildSettings)[];
// Fails to compile when a field is added to BuildSettings but not to KEYS (buildSettingsOf would drop it).
const EVERY_KEY_LISTED: [Exclude<keyof BuildSettings, (typeof KEYS)[number]>] extends [never] ? true : never = true;
void EVERY_KEY_LISTED;

/** Exactly the build settings of a larger request, to pass on (attach -> verify -> build). */
export function buildSettingsOf(request: BuildSettings): BuildSettings {
  const settings: BuildSettings = { bundledSdkDir: request.bundledSdkDir };
  for (const key of KEYS) if (request[key] !== undefined) (settings as unknown as Record<string, unknown>)[key] = request[key];
  return settings;
}

/** The most seconds the CLI's --timeout takes (Node's timers hold at most 2^31-1 ms). */
const MAX_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** The CLI flags that give a run these settings (the editor's verify task runs the CLI with the editor's settings). */
export function buildSettingsToFlags(settings: BuildSettings): string[] {
  const flags: string[] = [];
  if (settings.makeDirSetting !== undefined) flags.push('--make-dir', settings.makeDirSetting);
  if (settings.make !== undefined && settings.make !== 'make') flags.push('--make', settings.make);
  for (const [name, value] of Object.entries(settings.extraVariables ?? {})) flags.push('--make-var', `${name}=${value}`);
  if (settings.timeoutMs !== undefined) flags.push('--timeout', String(Math.min(Math.max(1, Math.ceil(settings.timeoutMs / 1000)), MAX_TIMEOUT_SECONDS)));
  return flags;
}
