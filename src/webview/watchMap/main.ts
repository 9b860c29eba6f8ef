// The Watch Map webview: draws the state messages of src/extension/watch/watchPanel.ts (values, rates, per-CPU
// values with their sum) and sends the user's buttons back. It holds no samples of its own: each state message is
// complete, so the view can be recreated at any time (VS Code drops it while hidden).
import 'uplot/dist/uPlot.min.css';
import './watchMap.css';
import type { FromWebview, WatchState } from '../../core/maps/watch/watchView';
import { Chart, seriesColor, type LineSpec } from './charts';
import { formatNumber, formatRate, seriesSummary } from './format';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };
const vscode = acquireVsCodeApi();
const post = (message: FromWebview) => vscode.postMessage(message);

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const valuesChart = new Chart(byId('values'), 'value');
const ratesChart = new Chart(byId('rates'), 'per second');
const perCpuChart = new Chart(byId('percpu'), 'value');
let last: WatchState | undefined;

byId('pause').addEventListener('click', () => post({ type: last?.status === 'paused' ? 'resume' : 'pause' }));
byId('clear').addEventListener('click', () => post({ type: 'clear' }));
byId('export').addEventListener('click', () => post({ type: 'exportCsv' }));
byId('top').addEventListener('click', () => post({ type: 'select', ids: null }));
window.addEventListener('resize', () => {
  valuesChart.resize();
  ratesChart.resize();
  perCpuChart.resize();
});
// A theme change restyles the page through its CSS variables; the canvases are redrawn with the new colours.
new MutationObserver(() => {
  for (const chart of [valuesChart, ratesChart, perCpuChart]) chart.clear();
  if (last) render(last);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });
window.addEventListener('message', (event: MessageEvent<WatchState>) => {
  if (event.data?.type === 'state') render(event.data);
});

function render(state: WatchState): void {
  last = state;
  byId('title').textContent = state.title;
  byId('path').textContent = `${state.path} · ${state.mapType}`;
  byId('pause').textContent = state.status === 'paused' ? 'Resume' : 'Pause';
  const status = [
    state.status === 'sampling' ? `sampling every ${state.intervalMs} ms` : state.status,
    `${state.samples}/${state.capacity} samples`,
    `${state.keys} ${state.keys === 1 ? 'key' : 'keys'}`,
    ...(state.untracked ? [`${state.untracked} keys not kept (memory budget)`] : []),
    ...(state.lastDumpMs !== null ? [`last dump ${state.lastDumpMs} ms`] : []),
  ].join(' · ');
  byId('status').textContent = status;
  const error = byId('error');
  error.textContent = state.error ?? '';
  error.hidden = state.error === undefined;
  byId('top').hidden = !state.chosen;

  const lines: LineSpec[] = state.charted.map((s, i) => ({ label: s.label, color: seriesColor(i) }));
  valuesChart.update(state.times, lines, state.charted.map((s) => s.values));
  ratesChart.update(state.times, lines, state.charted.map((s) => s.rates));

  const perCpuSection = byId('percpu-section');
  perCpuSection.hidden = !state.perCpuChart;
  if (state.perCpuChart) {
    const chart = state.perCpuChart;
    byId('percpu-title').textContent = `Per CPU: ${chart.label}`;
    const cpuLines: LineSpec[] = chart.cpus.map((c, i) => ({ label: `cpu${c.cpu}`, color: seriesColor(i), width: 1 }));
    const sumColor = getComputedStyle(document.body).getPropertyValue('--vscode-foreground').trim() || '#cccccc';
    perCpuChart.update(state.times, [...cpuLines, { label: 'Σ sum', color: sumColor, width: 2.5 }], [...chart.cpus.map((c) => c.values), chart.sum]);
  } else perCpuChart.clear();

  renderTable(state);
  report(state);
}

function renderTable(state: WatchState): void {
  const charted = new Set(state.charted.map((s) => s.id));
  const body = byId<HTMLTableSectionElement>('rows');
  const rows = state.rows.map((row) => {
    const tr = document.createElement('tr');
    const pick = document.createElement('input');
    pick.type = 'checkbox';
    pick.checked = charted.has(row.id);
    pick.title = 'Chart this series';
    pick.addEventListener('change', () => {
      const ids = state.charted.map((s) => s.id).filter((id) => id !== row.id);
      post({ type: 'select', ids: pick.checked ? [...ids, row.id] : ids });
    });
    const cells = [pick, row.label, formatNumber(row.latest), formatRate(row.rate)];
    for (const content of cells) {
      const td = document.createElement('td');
      if (typeof content === 'string') td.textContent = content;
      else td.append(content);
      tr.append(td);
    }
    return tr;
  });
  body.replaceChildren(...rows);
  byId('empty').hidden = state.rows.length > 0;
}

/** Tells the extension what was drawn (tests assert on it; nothing else depends on it). */
function report(state: WatchState): void {
  const series = state.charted.map((s) => ({ id: s.id, label: s.label, ...seriesSummary(s.values) }));
  post({
    type: 'rendered',
    samples: state.times.length,
    points: series.reduce((n, s) => n + s.points, 0),
    series,
    perCpuLines: state.perCpuChart ? state.perCpuChart.cpus.length + 1 : 0,
  });
}

post({ type: 'ready' });
