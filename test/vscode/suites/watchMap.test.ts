// Watch Map in the editor against the real kernel: the byte counter attached to a sandbox endpoint, its
// bytecount_map watched while traffic flows, and the webview's report of what it drew (points of a rising line);
// pause, hide and close stop the sampler. Picture: test-results/vscode-watch-map.png.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { closeAllEditors, getExtension, openFile, requestScreenshot, requireOrSkip, waitForEvent, workspacePath } from '../util';

// Test-only view of what ciliumCustom.watchMap returns (src/extension/watch/watchPanel.ts WatchMapHandle).
interface RenderReport {
  samples: number;
  points: number;
  series: { id: string; label: string; first: number | null; last: number | null; points: number }[];
  perCpuLines: number;
}
interface WatchMapHandle {
  pinPath: string;
  onDidRender: vscode.Event<RenderReport>;
  lastRender: RenderReport | undefined;
  sampling: boolean;
  panel: vscode.WebviewPanel;
  csv(): string;
  exportCsv(uri?: vscode.Uri): Promise<boolean>;
  pause(): void;
  resume(): void;
  dispose(): void;
}

const ENDPOINT = 4244;
const IDENTITY = 23456;
const LABEL = `__u32 ${IDENTITY}`;

describe('Watch Map on the sandbox byte counter', function () {
  this.timeout(180_000);
  let handle: WatchMapHandle | undefined;
  let mapsDir = '';
  const settings = () => vscode.workspace.getConfiguration('ciliumCustom');

  before(async function () {
    requireOrSkip(this, process.getuid?.() === 0, 'the sandbox endpoint needs root');
    getExtension();
    await settings().update('watch.intervalMs', 250, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('ciliumCustom.removeSandbox', { endpointId: ENDPOINT });
    assert.ok(await vscode.commands.executeCommand('ciliumCustom.createSandbox', { endpointId: ENDPOINT, identity: IDENTITY }), 'the sandbox came up');
    const record = (await vscode.commands.executeCommand('ciliumCustom.attach', {
      header: workspacePath('programs', 'bytecount.h'),
      endpointId: ENDPOINT,
      hooks: ['ipv4-ingress', 'ipv4-egress'],
    })) as { mapsDir: string } | undefined;
    assert.ok(record, 'the byte counter is attached');
    mapsDir = record.mapsDir;
  });

  after(async () => {
    handle?.dispose();
    await vscode.commands.executeCommand('ciliumCustom.detach', { endpointId: ENDPOINT, hooks: ['ipv4-ingress', 'ipv4-egress'] });
    await vscode.commands.executeCommand('ciliumCustom.removeSandbox', { endpointId: ENDPOINT });
    await settings().update('watch.intervalMs', undefined, vscode.ConfigurationTarget.Workspace);
    await closeAllEditors();
  });

  /** The next drawing in which the sandbox identity's line satisfies `predicate`. */
  function rendered(predicate: (line: RenderReport['series'][number]) => boolean, description: string): Promise<RenderReport> {
    const h = handle!;
    const ok = (r: RenderReport | undefined) => {
      const line = r?.series.find((s) => s.label === LABEL);
      return line !== undefined && predicate(line);
    };
    return waitForEvent(h.onDidRender, {
      predicate: (r) => ok(r),
      check: () => (ok(h.lastRender) ? h.lastRender : undefined),
      timeoutMs: 60_000,
      description: () => `${description} (last drawing: ${JSON.stringify(h.lastRender)})`,
    });
  }

  it('draws a rising line for the sandbox identity while traffic flows', async () => {
    await closeAllEditors();
    handle = (await vscode.commands.executeCommand('ciliumCustom.watchMap', { kind: 'map', map: { path: `${mapsDir}/bytecount_map` } })) as WatchMapHandle;
    assert.ok(handle, 'the command returns its panel');
    assert.equal(handle.pinPath, `${mapsDir}/bytecount_map`);
    assert.ok(handle.sampling, 'a visible panel samples');
    // Traffic in several bursts while the panel samples every 250 ms.
    for (let i = 0; i < 6; i++) {
      const traffic = (await vscode.commands.executeCommand('ciliumCustom.sandboxTraffic', { endpointId: ENDPOINT, count: 10 })) as { packetsSent: number } | undefined;
      assert.ok(traffic && traffic.packetsSent > 0, 'traffic went through');
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const report = await rendered((line) => line.points >= 3 && line.last !== null && line.first !== null && line.last > line.first, `a rising line labelled ${LABEL} with 3 points or more`);
    const line = report.series.find((s) => s.label === LABEL)!;
    assert.ok(report.points >= line.points && report.samples >= 3, JSON.stringify(report));
    await requestScreenshot('watch-map');
    assert.match(handle.csv(), new RegExp(`^[^,]+,\\d+,${LABEL},value,,\\d+,`, 'm'), 'the CSV has the identity');
    const csvFile = vscode.Uri.file(workspacePath('bytecount_map.csv'));
    assert.equal(await handle.exportCsv(csvFile), true);
    const saved = Buffer.from(await vscode.workspace.fs.readFile(csvFile)).toString('utf8');
    assert.match(saved, /^time,time_ms,key,field,cpu,value,rate_per_s\n/);
    assert.ok(saved.split('\n').length >= 4, saved);
    await vscode.workspace.fs.delete(csvFile);
    // Asking again for the same map shows the panel that is open.
    assert.equal(await vscode.commands.executeCommand('ciliumCustom.watchMap', { path: handle.pinPath }), handle, 'one panel per map');
  });

  it('pauses and resumes, stops while hidden and resumes when shown, and stops for good when closed', async () => {
    const h = handle!;
    h.pause();
    assert.equal(h.sampling, false, 'paused');
    h.resume();
    assert.equal(h.sampling, true, 'resumed');

    const hidden = waitForEvent(h.panel.onDidChangeViewState, { predicate: (e) => !e.webviewPanel.visible, description: 'the panel to be hidden' });
    await openFile(workspacePath('programs', 'bytecount.h'), { viewColumn: h.panel.viewColumn ?? vscode.ViewColumn.One });
    await hidden;
    assert.equal(h.sampling, false, 'no sampling while hidden');

    const shown = waitForEvent(h.panel.onDidChangeViewState, { predicate: (e) => e.webviewPanel.visible, description: 'the panel to be shown again' });
    h.panel.reveal();
    await shown;
    assert.equal(h.sampling, true, 'sampling again once visible');
    // The webview was recreated while hidden: it draws again from the samples the extension kept.
    const before = h.lastRender?.samples ?? 0;
    await waitForEvent(h.onDidRender, { predicate: (r) => r.samples > before, description: 'a drawing after the panel came back' });

    h.dispose();
    assert.equal(h.sampling, false, 'closed');
    handle = undefined;
  });

  it('per-CPU maps: one line per CPU and the sum, drawn in the webview', async () => {
    const dir = fs.mkdtempSync('/sys/fs/bpf/ccp-watch-host-');
    const pin = path.join(dir, 'watch_pcpu');
    try {
      execFileSync('bpftool', ['map', 'create', pin, 'type', 'percpu_array', 'key', '4', 'value', '8', 'entries', '2', 'name', 'watch_pcpu']);
      execFileSync('bpftool', ['map', 'update', 'pinned', pin, 'key', '1', '0', '0', '0', 'value', '7', '0', '0', '0', '0', '0', '0', '0']);
      handle = (await vscode.commands.executeCommand('ciliumCustom.watchMap', { path: pin })) as WatchMapHandle;
      const cpus = fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
      const count = cpus.split(',').reduce((n, range) => n + (range.includes('-') ? Number(range.split('-')[1]) - Number(range.split('-')[0]) + 1 : 1), 0);
      const h = handle;
      const report = await waitForEvent(h.onDidRender, {
        predicate: (r) => r.perCpuLines === count + 1 && r.samples >= 2,
        check: () => (h.lastRender && h.lastRender.perCpuLines === count + 1 && h.lastRender.samples >= 2 ? h.lastRender : undefined),
        description: () => `a per-CPU chart with ${count} CPUs and the sum (last drawing: ${JSON.stringify(h.lastRender)})`,
      });
      // Key 1 (7 on every CPU) is the largest series: the sum of the CPUs.
      assert.equal(report.series[0]?.last, 7 * count, JSON.stringify(report));
      await requestScreenshot('watch-map-percpu');
    } finally {
      handle?.dispose();
      handle = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('from the palette, asks which pinned map to watch', async () => {
    let settled = false;
    const command = Promise.resolve(vscode.commands.executeCommand('ciliumCustom.watchMap')).finally(() => (settled = true));
    // The quick pick lists the target's pinned maps (the counter map among them); take the first one.
    for (let i = 0; i < 50 && !settled; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    handle = (await command) as WatchMapHandle | undefined;
    assert.ok(handle, 'a map was picked and is watched');
    assert.ok(handle.pinPath.startsWith('/sys/fs/bpf/'), handle.pinPath);
    handle.dispose();
    handle = undefined;
  });
});
