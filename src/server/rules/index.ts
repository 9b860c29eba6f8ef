// All diagnostics rules over one syntax tree.
import type { Tree } from 'web-tree-sitter';
import { buildModel, type FileModel } from '../syntax';
import { checkLookupNull } from './nullCheck';
import { checkValuePadding } from './padding';
import { checkPercpuReset } from './percpuReset';
import { checkProgArrayBounds } from './progArray';
import { checkCustomProgSignature } from './signature';
import { checkStagesDefined } from './stageDefined';
import { checkStageReturns } from './stageReturn';
import { checkTailCallFallthrough } from './tailCall';
import type { Finding } from './types';

export const RULES: ((model: FileModel) => Finding[])[] = [
  checkLookupNull,
  checkProgArrayBounds,
  checkTailCallFallthrough,
  checkPercpuReset,
  checkValuePadding,
  checkCustomProgSignature,
  checkStageReturns,
  checkStagesDefined,
];

/** `fileBase`: the document's file name without extension, if it has one (for the sections quick fixes write). */
export function analyze(tree: Tree, text: string, fileBase?: string): Finding[] {
  const model = buildModel(tree, text, fileBase);
  const findings: Finding[] = [];
  for (const rule of RULES) {
    try {
      findings.push(...rule(model));
    } catch {
      // a rule tripping over an unusual tree must not take the others down
    }
  }
  return findings.sort((a, b) => a.range.start.row - b.range.start.row || a.range.start.column - b.range.start.column);
}
