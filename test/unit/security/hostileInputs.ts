// One shared table of hostile strings for every command builder (unit tests) and the process-level injection tests.
// Each entry may embed a marker path: if that file ever exists after a run, some shell or make executed part of it.

export interface HostileInput {
  /** Short label for test titles. */
  label: string;
  value: string;
  /** Contains NUL: no argv can carry it, so every builder must refuse it. */
  nul?: boolean;
  /** Contains '/': not usable as a single file name. */
  slash?: boolean;
  /** Contains a newline or CR: make variables cannot carry it. */
  newline?: boolean;
}

export const LONG_BYTES = 100 * 1024;

/** The table; `marker` is a bare file name or a path used inside the command-injection payloads. */
export function hostileInputs(marker = 'CCP_MARKER'): HostileInput[] {
  const raw: Array<[string, string]> = [
    ['empty', ''],
    ['spaces only', '   '],
    ['single quote', "it's"],
    ['quote breakout', `'; touch ${marker}; echo '`],
    ['double quote breakout', `"; touch ${marker}; echo "`],
    ['$() substitution', `$(touch ${marker})`],
    ['${} expansion', '${HOME}x'],
    ['backticks', `\`touch ${marker}\``],
    ['semicolon', `;touch ${marker}`],
    ['pipe', `|touch ${marker}`],
    ['and-and', `&&touch ${marker}`],
    ['redirect', `>${marker}`],
    ['newline', `a\ntouch ${marker}`],
    ['CR', `a\rtouch ${marker}`],
    ['CRLF', `a\r\ntouch ${marker}`],
    ['tab', `a\tb`],
    ['leading dash', '-oProxyCommand=touch ' + marker],
    ['leading double dash', '--help'],
    ['dot-dot path', '../../etc/passwd'],
    ['dot-dot name', '..'],
    ['RTL override', 'abc\u202Eh.exe'],
    ['emoji', 'prog🚀ü'],
    ['combining', 'e\u0301\u0327x'],
    ['glob', '*?[a-z]{a,b}~'],
    ['percent tokens', '%h %r %p %n %%'],
    ['make function', `$(shell touch ${marker})`],
    ['make dollar-dollar', `$$(touch ${marker})`],
    ['backslash', 'a\\b\\'],
    ['hash', '#comment'],
    ['equals', 'A=B'],
    ['NUL', `a\0$(touch ${marker})`],
    ['very long', (`a'b"c$(touch ${marker})\`d\`;e|f&g*h `).repeat(Math.ceil(LONG_BYTES / 40)).slice(0, LONG_BYTES)],
  ];
  return raw.map(([label, value]) => ({
    label,
    value,
    ...(value.includes('\0') ? { nul: true } : {}),
    ...(value.includes('/') ? { slash: true } : {}),
    ...(/[\n\r]/.test(value) ? { newline: true } : {}),
  }));
}

/** The four payload shapes of the injection system test, for a marker file path. */
export function injectionPayloads(marker: string): string[] {
  return [`$(touch ${marker})`, `;touch ${marker}`, `\`touch ${marker}\``, `|touch ${marker}`];
}
