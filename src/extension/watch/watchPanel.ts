// One Watch Map panel: a webview showing one pinned map's samples (core/maps/watch). It samples only while the
// panel is visible and not paused: hiding the panel stops the sampler (bpftool is not run for a view nobody sees),
// showing it again resumes, closing it disposes of everything. The samples stay in the extension; the webview is
// sent a complete state after each sample (it is recreated whenever it was hidden).
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { samplesToCsv } from '../../core/maps/watch/csv';
import { MapSampler, type SampleResult } from '../../core/maps/watch/sampler';
import { watchState, type FromWebview, type RenderReport, type WatchStatus } from '../../core/maps/watch/watchView';
import type { Target } from '../../core/target/target';
import type { CiliumCustomContext } from '../context';
import { watchHtml } from './watchHtml';

export const WATCH_VIEW_TYPE = 'ciliumCustom.watchMap';

/** What the Watch Map command returns: the panel, for tests and other extensions to drive and read. */
export interface WatchMapHandle {
  readonly pinPath: string;
  /** Fires each time the webview has drawn a state (what it drew). */
  readonly onDidRender: vscode.Event<RenderReport>;
  readonly lastRender: RenderReport | undefined;
  /** True while the sampler runs (visible and not paused). */
  readonly sampling: boolean;
  readonly panel: vscode.WebviewPanel;
  csv(): string;
  /** Saves the samples as CSV: to `uri`, or where the save dialog says (false: not saved). */
  exportCsv(uri?: vscode.Uri): Promise<boolean>;
  pause(): void;
  resume(): void;
  clear(): void;
  dispose(): void;
}

export class WatchPanel implements WatchMapHandle {
  private readonly sampler: MapSampler;
  private readonly rendered = new vscode.EventEmitter<RenderReport>();
  readonly onDidRender = this.rendered.event;
  lastRender: RenderReport | undefined;
  private paused = false;
  private selected: string[] | null = null;
  private last: SampleResult | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  private constructor(
    private readonly ctx: CiliumCustomContext,
    readonly panel: vscode.WebviewPanel,
    target: Target,
    readonly pinPath: string,
    private readonly title: string,
    private readonly onDispose: () => void,
  ) {
    this.sampler = new MapSampler(target, pinPath, {
      intervalMs: ctx.config.watchIntervalMs,
      pinPrefix: ctx.config.pinPrefix,
      onSample: (result) => this.sampled(result),
    });
  }

  /** Opens a panel on `pinPath` once the map has been read; throws (and shows nothing) when it is no readable map. */
  static async open(ctx: CiliumCustomContext, target: Target, pinPath: string, title: string, onDispose: () => void): Promise<WatchPanel> {
    const distWebview = vscode.Uri.joinPath(ctx.extension.extensionUri, 'dist', 'webview');
    const panel = vscode.window.createWebviewPanel(WATCH_VIEW_TYPE, `Watch ${title}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [distWebview],
    });
    const watch = new WatchPanel(ctx, panel, target, pinPath, title, onDispose);
    // Closed while the map is being read: nothing more to do.
    watch.disposables.push(panel.onDidDispose(() => watch.dispose()));
    try {
      await watch.sampler.open();
    } catch (error) {
      watch.dispose();
      throw error;
    }
    if (watch.disposed) return watch;
    const webview = panel.webview;
    webview.html = watchHtml({
      cspSource: webview.cspSource,
      nonce: randomBytes(16).toString('hex'),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(distWebview, 'watchMap.js')).toString(),
      styleUris: [webview.asWebviewUri(vscode.Uri.joinPath(distWebview, 'watchMap.css')).toString()],
      title,
    });
    watch.disposables.push(
      webview.onDidReceiveMessage((message: FromWebview) => watch.received(message)),
      panel.onDidChangeViewState(() => watch.followVisibility()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('ciliumCustom.watch') && watch.sampler.setInterval(ctx.config.watchIntervalMs)),
    );
    ctx.log.info(`watch: ${pinPath} (${watch.sampler.map?.type}) every ${watch.sampler.interval} ms on ${target.name}`);
    watch.followVisibility();
    return watch;
  }

  get sampling(): boolean {
    return this.sampler.running;
  }

  csv(): string {
    return samplesToCsv(this.sampler.store);
  }

  pause(): void {
    this.paused = true;
    this.followVisibility();
  }

  resume(): void {
    this.paused = false;
    this.followVisibility();
  }

  clear(): void {
    this.sampler.store.clear();
    this.post();
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** Samples exactly while the panel is visible and not paused. */
  private followVisibility(): void {
    if (this.disposed) return;
    if (this.panel.visible && !this.paused) this.sampler.start();
    else void this.sampler.stop();
    this.post();
  }

  private sampled(result: SampleResult): void {
    if (result.error) this.ctx.log.warn(`watch ${this.pinPath}: ${result.error}`);
    this.last = result;
    this.post();
  }

  private status(): WatchStatus {
    if (this.paused) return 'paused';
    if (!this.panel.visible) return 'hidden';
    if (this.last?.error && this.last.entries === 0) return 'error';
    return this.last ? 'sampling' : 'starting';
  }

  private post(): void {
    if (this.disposed || !this.panel.visible) return;
    const map = this.sampler.map;
    const state = watchState(this.sampler.store, {
      title: this.title,
      path: this.pinPath,
      mapType: map ? `${map.type}, key ${map.keySize} B, value ${map.valueSize} B` : '',
      perCpu: map?.perCpu ?? false,
      status: this.status(),
      ...(this.last?.error ? { error: this.last.error } : {}),
      intervalMs: this.sampler.interval,
      lastDumpMs: this.last?.durationMs ?? null,
      selected: this.selected,
    });
    void this.panel.webview.postMessage(state);
  }

  private received(message: FromWebview): void {
    switch (message?.type) {
      case 'ready':
        return this.post();
      case 'pause':
        return this.pause();
      case 'resume':
        return this.resume();
      case 'clear':
        return this.clear();
      case 'select':
        this.selected = Array.isArray(message.ids) ? message.ids.filter((id): id is string => typeof id === 'string') : null;
        return this.post();
      case 'exportCsv':
        void this.exportCsv();
        return;
      case 'rendered':
        this.lastRender = message;
        this.rendered.fire(message);
        return;
    }
  }

  /** Writes the samples as CSV (core/maps/watch/csv.ts) to `target`, or where the save dialog says. */
  async exportCsv(target?: vscode.Uri): Promise<boolean> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = `${this.title.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`;
    const uri =
      target ??
      (await vscode.window.showSaveDialog({
        title: `Export ${this.title} samples as CSV`,
        filters: { CSV: ['csv'] },
        ...(folder ? { defaultUri: vscode.Uri.joinPath(folder, name) } : {}),
      }));
    if (!uri) return false;
    try {
      await vscode.workspace.fs.writeFile(uri, Buffer.from(this.csv(), 'utf8'));
      void vscode.window.showInformationMessage(`Cilium Custom: saved ${this.sampler.store.length} samples of ${this.title} to ${vscode.workspace.asRelativePath(uri)}.`);
      return true;
    } catch (error) {
      this.ctx.log.failure('watch export', error);
      void vscode.window.showErrorMessage(`Cilium Custom: could not save ${uri.fsPath}: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sampler.dispose();
    this.disposables.splice(0).forEach((d) => d.dispose());
    this.rendered.dispose();
    this.panel.dispose();
    this.onDispose();
  }
}
