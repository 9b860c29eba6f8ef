// The BTF type names a map's key and value were declared with (`__type(key, __u32)` gives `__u32`), read with
// `bpftool -j btf dump map pinned P key|value`: what the Pinned Maps view writes before a scalar key or value.
import type { Target } from '../target/target';
import { bpftoolJson } from './bpftool';
import { parseBtfTypeName, type MapTypeNames } from './format';
import type { PinnedMap } from './maps';

/** The key and value type names of `map`; empty when it has no BTF or bpftool cannot say (never throws). */
export async function mapTypeNames(target: Target, map: Pick<PinnedMap, 'path' | 'btfId'>, signal?: AbortSignal): Promise<MapTypeNames> {
  if (map.btfId === null) return {};
  const names: MapTypeNames = {};
  for (const part of ['key', 'value'] as const) {
    try {
      const run = await bpftoolJson(target, ['btf', 'dump', 'map', 'pinned', map.path, part], { signal });
      const name = run.exitCode === 0 ? parseBtfTypeName(run.stdout) : undefined;
      if (name) names[part] = name;
    } catch {
      // No names: the entries still show, by value.
    }
  }
  return names;
}
