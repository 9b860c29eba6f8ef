// What Cilium would have made: a `cilium_calls_custom_<%05d>` PROG_ARRAY pinned under <bpffs>/tc/globals, for
// tests that attach without a Cilium agent.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { callsMapName, callsMapPath } from '../../../src/core/ids';
import { listBpffs } from './pins';

const BPFFS = '/sys/fs/bpf';

export function bpftool(...args: string[]): string {
  return execFileSync('bpftool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A free endpoint id in 60000..65535 (no calls map pinned under it). */
export function freeEndpointId(): number {
  for (;;) {
    const id = 60000 + Math.floor(Math.random() * 5536);
    if (!fs.existsSync(callsMapPath(BPFFS, id))) return id;
  }
}

/** What attach and detach may touch on the bpffs: our pin prefix, tc/globals, and the calls maps of `ids`. */
export function ourBpffsView(ids: number[]): string[] {
  const names = new Set(ids.map((id) => `tc/globals/${callsMapName(id)}`));
  return listBpffs(BPFFS).filter((p) => p === 'cilium-custom/' || p.startsWith('cilium-custom/') || p === 'tc/' || p === 'tc/globals/' || names.has(p));
}

/** Creates the calls map like Cilium does; returns a function removing it and any directory it had to create. */
export function createCallsMap(id: number, type = 'prog_array', root = BPFFS): () => void {
  const made: string[] = [];
  for (const dir of [path.join(root, 'tc'), path.join(root, 'tc', 'globals')]) {
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(dir);
      made.unshift(dir);
    }
  }
  const pin = callsMapPath(root, id);
  const value = type === 'prog_array' ? '4' : '8';
  bpftool('map', 'create', pin, 'type', type, 'key', '4', 'value', value, 'entries', '4', 'name', 'cilium_calls_cu');
  return () => {
    fs.rmSync(pin, { force: true });
    for (const dir of made) {
      try {
        fs.rmdirSync(dir);
      } catch {
        // Someone else uses it now.
      }
    }
  };
}

