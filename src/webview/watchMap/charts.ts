// The three uPlot charts of Watch Map (values, rates, per-CPU), coloured from the VS Code theme. A chart is
// rebuilt only when its set of series changes; otherwise new samples go in through setData.
import uPlot from 'uplot';

/** Theme colours (VS Code sets these variables on the webview's body and updates them with the theme). */
function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];
const FALLBACK = ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'];

export function seriesColor(i: number): string {
  return themeColor(PALETTE[i % PALETTE.length], FALLBACK[i % FALLBACK.length]);
}

export interface LineSpec {
  label: string;
  color: string;
  width?: number;
  dash?: number[];
}

export class Chart {
  private plot: uPlot | undefined;
  private signature = '';

  constructor(
    private readonly container: HTMLElement,
    private readonly yLabel: string,
  ) {}

  /** Draws `lines` over `times` (seconds); rebuilds the plot when the lines are not the ones it has. */
  update(times: number[], lines: LineSpec[], data: (number | null)[][]): void {
    const signature = JSON.stringify(lines);
    const aligned = [times, ...data] as uPlot.AlignedData;
    if (this.plot && signature === this.signature) {
      this.plot.setData(aligned);
      return;
    }
    this.plot?.destroy();
    this.signature = signature;
    const foreground = themeColor('--vscode-foreground', '#cccccc');
    const grid = themeColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
    const axis = (label?: string): uPlot.Axis => ({ stroke: foreground, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, ...(label ? { label, size: 70 } : {}) });
    this.plot = new uPlot(
      {
        width: this.width(),
        height: 220,
        scales: { x: { time: true } },
        axes: [axis(), axis(this.yLabel)],
        series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: l.width ?? 1.5, ...(l.dash ? { dash: l.dash } : {}), points: { show: false } }))],
        legend: { show: true },
      },
      aligned,
      this.container,
    );
  }

  /** Follows the panel's width. */
  resize(): void {
    if (this.plot && this.plot.width !== this.width()) {
      this.plot.setSize({ width: this.width(), height: 220 });
    }
  }

  clear(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.signature = '';
  }

  private width(): number {
    return Math.max(200, this.container.clientWidth);
  }
}
