// Numbers as the Watch Map table and legends show them: grouped digits, at most two decimals, and rates with "/s".

const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const fraction = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function formatNumber(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  return Number.isInteger(n) ? whole.format(n) : fraction.format(n);
}

export function formatRate(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : `${formatNumber(n)}/s`;
}

/** First and last non-null values of a series, and how many points it has. */
export function seriesSummary(values: readonly (number | null)[]): { first: number | null; last: number | null; points: number } {
  let first: number | null = null;
  let last: number | null = null;
  let points = 0;
  for (const v of values) {
    if (v === null) continue;
    if (first === null) first = v;
    last = v;
    points++;
  }
  return { first, last, points };
}
