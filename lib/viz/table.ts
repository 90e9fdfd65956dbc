/**
 * Tables for notebooks, markdown files and terminals from plain rows (array of records).
 */
export type Row = Record<string, unknown>;

const cell = (v: unknown, digits: number): string => {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number')
    return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toFixed(digits) : String(v);
  return String(v);
};
const columnsOf = (rows: Row[]): string[] => [...new Set(rows.flatMap((r) => Object.keys(r)))];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function markdownTable(rows: Row[], digits = 3, columns = columnsOf(rows)): string {
  const body = rows.map((r) => `| ${columns.map((c) => cell(r[c], digits).replace(/\|/g, '\\|')).join(' | ')} |`);
  return [
    `| ${columns.join(' | ')} |`,
    `| ${columns.map((c) => (rows.some((r) => typeof r[c] === 'number') ? '---:' : '---')).join(' | ')} |`,
    ...body,
  ].join('\n');
}

export function htmlTable(rows: Row[], digits = 3, columns = columnsOf(rows)): string {
  const num = columns.map((c) => rows.some((r) => typeof r[c] === 'number'));
  const th = columns.map((c, i) => `<th style="text-align:${num[i] ? 'right' : 'left'}">${esc(c)}</th>`).join('');
  const trs = rows
    .map(
      (r) =>
        `<tr>${columns.map((c, i) => `<td style="text-align:${num[i] ? 'right' : 'left'}">${esc(cell(r[c], digits))}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table class="dl-table"><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

export function textTable(rows: Row[], digits = 3, columns = columnsOf(rows)): string {
  const cells = rows.map((r) => columns.map((c) => cell(r[c], digits)));
  const w = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const fmt = (r: string[]) =>
    r
      .map((s, i) => s.padEnd(w[i]))
      .join('  ')
      .trimEnd();
  return [fmt(columns), w.map((n) => '-'.repeat(n)).join('  '), ...cells.map(fmt)].join('\n');
}
