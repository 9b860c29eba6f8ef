// (b) A PROG_ARRAY smaller than a slot it is given: an index of its static `.values = { [K] = ... }` initializer,
// or a constant slot K of `bpf_tail_call(ctx, &map, K)` / `tail_call(...)` / `tail_call_static(...)`, with
// K >= max_entries. K and max_entries may be numbers, `#define`s or enum constants of the file (+ - * << | ...).
import { DiagnosticCodes } from '../../shared/protocol';
import { callArgs, calleeName, evalConstant, nodesIn, type FileModel, offsetToPoint, rangeOf, TAIL_CALL_FUNCTIONS, unwrap } from '../syntax';
import type { Finding } from './types';

export function checkProgArrayBounds(model: FileModel): Finding[] {
  const findings: Finding[] = [];
  const uses = new Map<string, { index: number; range: Finding['range']; what: string }[]>();
  const add = (map: string, index: number, range: Finding['range'], what: string): void => {
    if (!uses.has(map)) uses.set(map, []);
    uses.get(map)!.push({ index, range, what });
  };
  for (const map of model.maps.values()) {
    for (const slot of map.slots) add(map.name, slot.index, rangeOf(slot.node), `its initializer fills slot ${slot.index}`);
  }
  for (const fn of model.functions) {
    for (const call of nodesIn(model, fn.body, 'call_expression')) {
      if (!TAIL_CALL_FUNCTIONS.has(calleeName(call) ?? '')) continue;
      const [, mapArg, slotArg] = callArgs(call);
      const mapExpr = mapArg ? unwrap(mapArg) : undefined;
      if (mapExpr?.type !== 'pointer_expression' || !slotArg) continue;
      const k = evalConstant(slotArg.text, model.constants);
      if (k !== undefined) add(unwrap(mapExpr.childForFieldName('argument')!).text, k, rangeOf(slotArg), `${calleeName(call)}() uses slot ${slotArg.text === String(k) ? k : `${slotArg.text} = ${k}`}`);
    }
  }
  for (const [name, list] of uses) {
    const map = model.maps.get(name);
    if (!map || map.type !== 'BPF_MAP_TYPE_PROG_ARRAY' || map.maxEntries === undefined) continue;
    const max = map.maxEntries;
    const needed = Math.max(...list.map((u) => u.index)) + 1;
    const attr = map.attrs.get('max_entries')!;
    for (const use of list) {
      if (use.index < max) continue;
      findings.push({
        code: DiagnosticCodes.progArrayBounds,
        severity: 'error',
        message: use.what.startsWith('its initializer')
          ? `prog array \`${name}\` has max_entries ${max} (slots 0..${max - 1}) but ${use.what}: libbpf refuses to load the object`
          : `prog array \`${name}\` has max_entries ${max} (slots 0..${max - 1}) but ${use.what}: that tail call always fails`,
        range: use.range,
        fix: {
          title: `Raise max_entries of '${name}' to ${needed}`,
          edits: [{ range: { start: offsetToPoint(model.text, attr.valueStart), end: offsetToPoint(model.text, attr.valueEnd) }, newText: String(needed) }],
        },
      });
    }
  }
  return findings;
}
