// Helper and map-type documentation read from the kernel UAPI header on this machine (/usr/include/linux/bpf.h):
// its big comment documents every helper as
//    * long bpf_map_update_elem(struct bpf_map *map, const void *key, const void *value, u64 flags)
//    * 	Description
//    * 		...
//    * 	Return
//    * 		...
// and `enum bpf_map_type` lists the map types. Nothing here is hand-written documentation.
import * as fs from 'node:fs';

export const DEFAULT_UAPI_HEADER = '/usr/include/linux/bpf.h';

export interface HelperDoc {
  name: string;
  signature: string;
  description: string;
  returns: string;
}

export interface MapTypeDoc {
  name: string;
  value: number;
}

export interface UapiDocs {
  source: string;
  helpers: Map<string, HelperDoc>;
  mapTypes: Map<string, MapTypeDoc>;
}

/** Cilium's wrappers (bpf/include/sdk/maps.h) and the helpers they call. */
export const WRAPPERS: Record<string, string> = {
  map_lookup_elem: 'bpf_map_lookup_elem',
  map_update_elem: 'bpf_map_update_elem',
  map_delete_elem: 'bpf_map_delete_elem',
  tail_call: 'bpf_tail_call',
  tail_call_static: 'bpf_tail_call',
};

const SIGNATURE = /^ \* ((?:[\w ]+?)[\s*]+(bpf_\w+)\s*\((.*)\))\s*$/;

/** Strips the comment's ` * ` and the section's leading tabs, keeps paragraphs. */
function cleanBlock(lines: string[]): string {
  const text = lines.map((l) => l.replace(/^ \*\s?/, '').replace(/^\t\t?/, '')).join('\n');
  return text.replace(/\n{3,}/g, '\n\n').trim();
}

export function parseUapiHeader(text: string, source = DEFAULT_UAPI_HEADER): UapiDocs {
  const helpers = new Map<string, HelperDoc>();
  const lines = text.split('\n');
  let current: { name: string; signature: string; description: string[]; returns: string[]; section?: 'd' | 'r' } | undefined;
  const flush = (): void => {
    if (current && !helpers.has(current.name)) {
      helpers.set(current.name, { name: current.name, signature: current.signature, description: cleanBlock(current.description), returns: cleanBlock(current.returns) });
    }
    current = undefined;
  };
  for (const line of lines) {
    const m = SIGNATURE.exec(line);
    if (m) {
      flush();
      current = { name: m[2]!, signature: m[1]!.replace(/\s+/g, ' '), description: [], returns: [] };
      continue;
    }
    if (!current) continue;
    if (/^\s*\*\//.test(line) || !/^ \*/.test(line)) {
      flush();
      continue;
    }
    if (/^ \* \tDescription\s*$/.test(line)) current.section = 'd';
    else if (/^ \* \tReturn\s*$/.test(line)) current.section = 'r';
    else if (current.section === 'd') current.description.push(line);
    else if (current.section === 'r') current.returns.push(line);
  }
  flush();
  const mapTypes = new Map<string, MapTypeDoc>();
  const enumBody = /enum bpf_map_type\s*\{([\s\S]*?)\};/.exec(text)?.[1] ?? '';
  let next = 0;
  for (const entry of enumBody.replace(/\/\*[\s\S]*?\*\//g, '').split(',')) {
    const m = /^\s*(BPF_MAP_TYPE_\w+)\s*(?:=\s*(\w+))?\s*$/.exec(entry);
    if (!m) continue;
    const value = m[2] === undefined ? next : /^\d+$/.test(m[2]) ? Number(m[2]) : (mapTypes.get(m[2])?.value ?? next);
    if (!mapTypes.has(m[1]!)) mapTypes.set(m[1]!, { name: m[1]!, value });
    next = value + 1;
  }
  return { source, helpers, mapTypes };
}

/** The docs of the header at `path`, or undefined (with the reason) when it cannot be read. */
export function loadUapiDocs(path = DEFAULT_UAPI_HEADER): { docs?: UapiDocs; error?: string } {
  try {
    return { docs: parseUapiHeader(fs.readFileSync(path, 'utf8'), path) };
  } catch (e) {
    return { error: `${path}: ${(e as Error).message}` };
  }
}
