// (h) A tail-call stage a PROG_ARRAY's static initializer names (`.values = { [K] = (void *)&stage, ... }`) that
// this file does not define as a program. Such a name is only a declaration (`int stage(struct __ctx_buff *ctx);`,
// extern by default): clang emits an extern symbol, and libbpf refuses the object at load time ("failed to find
// BTF for extern 'stage'"). A stage that is defined but has no `__section(...)`/`SEC(...)` is no program either
// (it lands in .text as a subprogram), and libbpf cannot put it into a slot. Reported on the initializer's
// reference. Quick fixes: a stub stage at the end of the file that returns the datapath's verdict from the cb meta
// word (what every stage returns, see rule (g)), or the missing `__section(...)` line above the definition.
// A file that includes a header of its own (`#include "stages.h"`) may define the stage there: "never defined" is
// not reported in such a file, since the server does not read includes.
import type { Node } from 'web-tree-sitter';
import { DiagnosticCodes } from '../../shared/protocol';
import { declaredName, type FileModel, type FunctionDef, rangeOf, unwrap } from '../syntax';
import { verdictFor, verdictInfo } from './returns';
import type { Finding, QuickFix } from './types';

const CTX_TYPE = /\bstruct\s+(__ctx_buff|__sk_buff)\b/;

/** The function a prog-array slot's value names: `&f`, `(void *)&f`, `f`. */
function referencedFunction(slot: Node): Node | undefined {
  const value = slot.type === 'initializer_pair' ? slot.childForFieldName('value') : slot;
  if (!value) return undefined;
  let e = unwrap(value);
  if (e.type === 'pointer_expression' && e.child(0)?.text === '&') e = unwrap(e.childForFieldName('argument')!);
  return e.type === 'identifier' ? e : undefined;
}

/** Top-level function prototypes by name (`int stage(struct __ctx_buff *ctx);`, `extern int stage(...);`). */
function prototypes(model: FileModel): Map<string, Node> {
  const found = new Map<string, Node>();
  for (const top of model.tree.rootNode.namedChildren) {
    if (top?.type !== 'declaration') continue;
    for (const declarator of top.childrenForFieldName('declarator')) {
      let d: Node | null = declarator;
      while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
      const name = declaredName(d ?? null)?.text;
      if (d && name && !found.has(name)) found.set(name, top);
    }
  }
  return found;
}

/** The `stage2` of `tail_stage2`: the part after the last underscore when it names a stage, else the name. */
function stageSuffix(name: string): string {
  return /(stage_?\d+)$/i.exec(name)?.[1] ?? name;
}

/** A section for a new stage: next to the file's other stage sections (`prefix/stage2`), else `<file>/stage2`. */
function sectionFor(model: FileModel, name: string): string {
  const used = new Set(model.functions.map((f) => f.section).filter((s): s is string => !!s));
  const prefix = [...used].map((s) => /^([^/]+)\//.exec(s)?.[1]).find((p) => p) ?? model.fileBase;
  const candidate = prefix ? `${prefix}/${stageSuffix(name)}` : name;
  return used.has(candidate) ? `${prefix ?? name}/${name}` : candidate;
}

/** `struct __ctx_buff *ctx` from the prototype when it names a context parameter, else the SDK's. */
function stubParameter(proto: Node | undefined): { text: string; name: string } {
  if (proto) {
    let d: Node | null = proto.childForFieldName('declarator');
    while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
    const params = (d?.childForFieldName('parameters')?.namedChildren ?? []).filter((p): p is Node => p?.type === 'parameter_declaration');
    const name = params.length === 1 ? declaredName(params[0]!.childForFieldName('declarator'))?.text : undefined;
    if (name && CTX_TYPE.test(params[0]!.text)) return { text: params[0]!.text, name };
  }
  return { text: 'struct __ctx_buff *ctx', name: 'ctx' };
}

function stubFix(model: FileModel, name: string, proto: Node | undefined): QuickFix {
  const param = stubParameter(proto);
  const verdict = verdictFor(param.name, verdictInfo(model), model);
  const lines = model.text.split('\n');
  const lastRow = lines.length - 1;
  const lastColumn = lines[lastRow]!.length;
  const lead = lastColumn === 0 ? (lines[lastRow - 1]?.trim() === '' ? '' : '\n') : '\n\n';
  const stub = [
    `__section("${sectionFor(model, name)}")`,
    `int ${name}(${param.text})`,
    '{',
    `\t/* A tail-called stage: what it returns goes to the datapath, so hand back its verdict. */`,
    `\treturn ${verdict};`,
    '}',
    '',
  ].join('\n');
  const end = { row: lastRow, column: lastColumn };
  return { title: `Define stage '${name}' (a stub returning the datapath's verdict)`, edits: [{ range: { start: end, end }, newText: `${lead}${stub}` }] };
}

function sectionFix(model: FileModel, fn: FunctionDef): QuickFix {
  // Above the definition's first line (its `static __always_inline`/return type), at its indentation.
  const start = { row: fn.node.startPosition.row, column: 0 };
  const indent = /^[ \t]*/.exec(model.text.split('\n')[start.row] ?? '')![0];
  return { title: `Put stage '${fn.name}' into its own section`, edits: [{ range: { start, end: start }, newText: `${indent}__section("${sectionFor(model, fn.name)}")\n` }] };
}

/** Whether the file includes a header by a quoted path (one of its own, which the server does not read). */
const hasLocalInclude = (model: FileModel): boolean =>
  model.tree.rootNode.namedChildren.some((n) => n?.type === 'preproc_include' && n.childForFieldName('path')?.type === 'string_literal');

export function checkStagesDefined(model: FileModel): Finding[] {
  const findings: Finding[] = [];
  let protos: Map<string, Node> | undefined;
  let localInclude: boolean | undefined;
  for (const map of model.maps.values()) {
    if (map.type !== 'BPF_MAP_TYPE_PROG_ARRAY') continue;
    for (const slot of map.slots) {
      const ref = referencedFunction(slot.node);
      if (!ref) continue;
      const name = ref.text;
      const where = `slot ${slot.index} of prog array \`${map.name}\``;
      const fn = model.functions.find((f) => f.name === name);
      if (fn) {
        if (fn.section) continue;
        findings.push({
          code: DiagnosticCodes.stageUndefined,
          severity: 'error',
          message: `stage \`${name}\` (${where}) is defined without a __section(...): it is not a program of its own, and libbpf cannot put it into the slot`,
          range: rangeOf(ref),
          fix: sectionFix(model, fn),
        });
        continue;
      }
      localInclude ??= hasLocalInclude(model);
      if (localInclude) continue;
      protos ??= prototypes(model);
      const proto = protos.get(name);
      const declared = proto ? `is declared on line ${proto.startPosition.row + 1} but never defined in this file` : 'is never defined in this file';
      findings.push({
        code: DiagnosticCodes.stageUndefined,
        severity: 'error',
        message: `stage \`${name}\` (${where}) ${declared}: libbpf refuses to load the object ("failed to find BTF for extern '${name}'"); define it as a program that returns the datapath's verdict`,
        range: rangeOf(ref),
        fix: stubFix(model, name, proto),
      });
    }
  }
  return findings;
}
