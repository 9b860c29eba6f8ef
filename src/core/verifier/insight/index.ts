// What the verifier saw, from a level-2 log: per source line instruction counts, the path to the error, the
// register state there and the chain of writes that made the failing register. No vscode import.
export type { InsightReport, LineHeat, PathRun, RegisterValue, OriginStep, InsnDetail } from './model';
export { InsightCollector, InsightBody, PATH_WINDOW } from './collector';
export { analyzeBody, typeOf, type AnalyzeOptions } from './analyze';
export { insnEffect, insnText, registerInMessage, type InsnEffect, type InsnKind } from './insn';
export { DetailedLogReader, readDetailedLog, type ReadResult } from './reader';
export { describeValue } from './plain';
export { toDetailJson, formatDetailText, type DetailJson } from './json';
export { objectInsnLines } from './objectLines';
