// A plain-text table: benchmark, ours, baseline (with its name), ratio ours/baseline.
export interface Row {
  name: string;
  ours: number | string;
  baseline: number | string;
  baselineName: string;
  ratio?: number;
}

function show(value: number | string): string {
  if (typeof value === 'string') return value;
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function formatTable(rows: Row[]): string {
  const header = ['benchmark', 'ours', 'baseline', 'ratio'];
  const body = rows.map((row) => [row.name, show(row.ours), `${show(row.baseline)} (${row.baselineName})`, row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`]);
  const widths = header.map((_, i) => Math.max(header[i].length, ...body.map((cells) => cells[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The same rows as a Markdown table: what README.md's benchmark table is, pasted as printed. */
export function formatMarkdown(rows: Row[]): string {
  const body = rows.map((row) => `| ${row.name} | ${show(row.ours)} | ${show(row.baseline)} (${row.baselineName}) | ${row.ratio === undefined ? '' : `${row.ratio.toFixed(2)}x`} |`);
  return ['| benchmark | ours | baseline | ratio |', '|---|---|---|---|', ...body].join('\n');
}
