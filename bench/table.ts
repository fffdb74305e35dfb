// The scoreboard: one row per figure, ours beside its peer from the same run, as a ratio with its target.
// Formats the rows as a Markdown table, for the terminal and for bench/results/latest.md.

export interface Target {
  /** 'at-least': ratio ≥ value passes; 'at-most': ratio ≤ value passes. */
  kind: 'at-least' | 'at-most';
  value: number;
}

export interface Row {
  section: string;
  figure: string;
  unit: string;
  ours: number;
  peerName: string;
  peer: number;
  /** Where the figure is "lower is better" (memory, latency), the ratio still reads ours / peer. */
  target?: Target;
  /** Anything the reader must know to trust the figure (e.g. "generator saturated"). */
  note?: string;
}

export function ratio(row: Row): number {
  return row.peer === 0 ? Number.NaN : row.ours / row.peer;
}

export function verdict(row: Row): string {
  if (!row.target) return '—';
  const value = ratio(row);
  if (!Number.isFinite(value)) return 'n/a';
  const met = row.target.kind === 'at-least' ? value >= row.target.value : value <= row.target.value;
  return met ? 'met' : 'MISSED';
}

export function formatTarget(target: Target | undefined): string {
  if (!target) return '—';
  return `${target.kind === 'at-least' ? '≥' : '≤'} ${target.value}×`;
}

/** Three significant figures, thousands grouped: readable at a glance, precise enough for a ratio. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  return value.toFixed(digits);
}

/** "2.35×", or "n/a" alone when the peer measured nothing (never "n/a×"). */
export function formatRatio(row: Row): string {
  const value = ratio(row);
  return Number.isFinite(value) ? `${formatNumber(value)}×` : 'n/a';
}

export function formatTable(rows: readonly Row[]): string {
  const lines = [
    '| section | figure | ours | peer | ours / peer | target | result | note |',
    '|---|---|---:|---:|---:|---:|---|---|',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.section} | ${row.figure} (${row.unit}) | ${formatNumber(row.ours)} | ${formatNumber(row.peer)} ${row.peerName} | ` +
        `${formatRatio(row)} | ${formatTarget(row.target)} | ${verdict(row)} | ${row.note ?? ''} |`,
    );
  }
  return lines.join('\n');
}
