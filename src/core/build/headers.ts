// Which headers are custom programs: the ones that define custom_prog(), the function the landing program calls.
const CUSTOM_PROG_DEFINITION = /\bcustom_prog\s*\(/;

export function isCustomProgramSource(text: string): boolean {
  return CUSTOM_PROG_DEFINITION.test(text);
}
