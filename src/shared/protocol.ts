// Names shared by the language client (extension) and the language server.

/** `source` of every diagnostic the language server publishes. */
export const DIAGNOSTIC_SOURCE = 'cilium-custom';

/** The setting that turns the language server on or off. */
export const LANGUAGE_SERVER_SETTING = 'ciliumCustom.languageServer.enabled';

/** Codes of the server's diagnostics (`Diagnostic.code`). */
export const DiagnosticCodes = {
  unchecked: 'map-lookup-null',
  progArrayBounds: 'prog-array-bounds',
  tailCallFallthrough: 'tail-call-fallthrough',
  percpuNotReset: 'percpu-not-reset',
  valuePadding: 'map-value-padding',
  customProgSignature: 'custom-prog-signature',
  stageReturn: 'stage-return',
  stageUndefined: 'stage-undefined',
} as const;
export type DiagnosticCode = (typeof DiagnosticCodes)[keyof typeof DiagnosticCodes];

/** Options the client passes to the server at start-up. */
export interface ServerInitializationOptions {
  /** Where to read helper documentation from; default /usr/include/linux/bpf.h. */
  uapiHeader?: string;
  /** Diagnostics debounce after an edit, in ms. */
  debounceMs?: number;
}
