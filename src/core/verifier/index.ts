// Public surface of the verifier-log engine (no vscode import anywhere below this folder).
export type { LoaderFamily, SourceLocation, Verdict, VerifierError, VerifierLog, VerifierStats } from './model';
export { VerifierLogParser, parseVerifierLog } from './parser';
export { classifyError, hintFor, type Hint } from './hints';
export { toExplainJson, type ExplainJson } from './explainJson';
export { SourceIndex, resolveLogLocations, resolveSourceText, type SourceFile, type ResolvedLine } from './sourceLines';
export { lookupInsn, mapInsnToSource, parseObjdumpLines, readObjectLineInfo, type ObjectLine } from './objectLineInfo';
