// cilium-custom maps [--dir D]... [--dump NAME|PATH [--offset N] [--limit N]] [--json]
import { CustomCallsProblem } from '../core/problem';
import { dumpMap, listPinnedMaps, MAX_PAGE_SIZE, type DumpPage, type MapValue } from '../core/maps/maps';
import { nonEmptyOption, numberOption, parseCommandArgs, printJson, UsageError } from './args';
import { checkLocalPrivilege } from './privilege';
import { TARGET_OPTIONS, targetFromFlags } from './targetArgs';

export async function runMapsCli(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    ...TARGET_OPTIONS,
    dir: { type: 'string', multiple: true },
    dump: { type: 'string' },
    offset: { type: 'string' },
    limit: { type: 'string' },
    'pin-prefix': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 0) throw new UsageError('maps takes no positional arguments (use --dump NAME|PATH)');
  const offset = numberOption('offset', values.offset, { min: 0, max: 2 ** 32 }) ?? 0;
  const limit = numberOption('limit', values.limit, { min: 1, max: MAX_PAGE_SIZE }) ?? 100;
  for (const dir of values.dir ?? []) {
    if (!nonEmptyOption('dir', dir)!.startsWith('/')) throw new UsageError(`--dir ${JSON.stringify(dir)} must be an absolute path on the target's bpffs`);
  }
  nonEmptyOption('dump', values.dump);
  const target = targetFromFlags(values);
  checkLocalPrivilege('maps', target);
  try {
    const listed = await listPinnedMaps(target, { dirs: values.dir, pinPrefix: values['pin-prefix'], signal });
    if (values.dump === undefined) {
      if (values.json) printJson(listed);
      else {
        for (const m of listed.maps) {
          process.stdout.write(`${m.owner.padEnd(6)} ${String(m.id).padStart(6)} ${m.type.padEnd(14)} ${m.keySize}/${m.valueSize} max ${m.maxEntries}  ${m.path}\n`);
        }
      }
      // A directory asked for by name that is not there is an error (a typo must not look like "no maps").
      const missing = values.dir ? listed.missingDirs : [];
      for (const d of missing) process.stderr.write(`cilium-custom: ${d} does not exist on ${target.name}\n`);
      return missing.length ? 1 : 0;
    }
    const wanted = values.dump;
    let pinPath: string;
    if (wanted.startsWith('/')) pinPath = wanted;
    else {
      const matches = listed.maps.filter((m) => m.pinName === wanted || m.name === wanted);
      if (matches.length === 0) throw new CustomCallsProblem('not-found', `no pinned map named ${wanted} in ${listed.maps.length ? 'the listed directories' : 'any listed directory (none has maps)'}.`);
      if (matches.length > 1) throw new CustomCallsProblem('not-found', `${wanted} is ambiguous: ${matches.map((m) => m.path).join(', ')}; give the path.`);
      pinPath = matches[0].path;
    }
    const page = await dumpMap(target, pinPath, { offset, limit, pinPrefix: values['pin-prefix'], signal });
    if (values.json) printJson(page);
    else printPage(page);
    return 0;
  } catch (error) {
    if (!(error instanceof CustomCallsProblem)) throw error;
    if (values.json) printJson({ ok: false, problem: error.kind, message: error.message, fix: error.fix });
    else process.stderr.write(`cilium-custom: ${error.full}\n`);
    return 1;
  } finally {
    await target.dispose();
  }
}

function show(v: MapValue): string {
  if (v.formatted !== undefined) return JSON.stringify(v.formatted);
  return v.integer !== null ? `${v.integer} (${v.hex})` : v.hex;
}

function printPage(p: DumpPage): void {
  process.stdout.write(`${p.map.path}: ${p.map.type}, key ${p.map.keySize} B, value ${p.map.valueSize} B, max ${p.map.maxEntries}${p.btf ? ', BTF' : ''}\n`);
  for (const e of p.entries) {
    if (e.value) process.stdout.write(`  ${show(e.key)} => ${show(e.value)}\n`);
    else {
      const sum = e.sum ? (e.sum.formatted !== undefined ? JSON.stringify(e.sum.formatted) : e.sum.integer) : '?';
      process.stdout.write(`  ${show(e.key)} => sum ${sum}; ${(e.perCpu ?? []).map((c) => `cpu${c.cpu} ${show(c.value)}`).join(', ')}\n`);
    }
  }
  for (const s of p.skipped) process.stderr.write(`cilium-custom: entry ${s.index} skipped: ${s.error}\n`);
  const end = p.offset + p.entries.length;
  process.stdout.write(`entries ${p.entries.length ? p.offset + 1 : 0}-${end}${p.total !== null ? ` of ${p.total}` : ''}${p.hasMore ? ` (more: --offset ${end})` : ''}\n`);
}
