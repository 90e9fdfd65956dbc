/**
 * Progress for long work. In a terminal: one line on stderr redrawn in place (or a line every few
 * seconds when stderr is not a TTY, so CI logs stay short). In a notebook: one display updated in place.
 *
 *   const bar = progress({ total: files.length, label: 'decode', unit: 'img' });
 *   for (…) bar.tick(1, { loss: 0.42 });
 *   bar.done();
 */
import { tslab, TslabDisplay } from './notebook_context.js';

export interface ProgressOptions {
  total?: number;
  label: string;
  /** Unit of the count: 'img', 'step', 'B' (bytes: shown as KB/MB/GB). */
  unit?: string;
  /** Start value (for resumed work). */
  start?: number;
  /** Silence (tests). Also when DETRLAB_QUIET=1. */
  quiet?: boolean;
  /** In a terminal, erase the line when done instead of keeping it (a short inner bar, e.g. validation). */
  transient?: boolean;
}

export interface Progress {
  tick(n?: number, info?: Record<string, number | string>): void;
  set(value: number, info?: Record<string, number | string>): void;
  setTotal(total: number): void;
  done(info?: Record<string, number | string>): void;
  /** Changes the label (e.g. `epoch 2/3`) from the next redraw on. */
  setLabel(label: string): void;
  /** Prints a permanent line (a table row) above the live line, which is redrawn below it; shown even when quiet. */
  log(line: string): void;
  readonly value: number;
}

const fmtBytes = (b: number) =>
  b >= 1e9
    ? `${(b / 1e9).toFixed(2)} GB`
    : b >= 1e6
      ? `${(b / 1e6).toFixed(1)} MB`
      : b >= 1e3
        ? `${(b / 1e3).toFixed(0)} kB`
        : `${b} B`;
export const fmtDuration = (s: number): string => {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
};
const fmtInfo = (info: Record<string, number | string>) =>
  Object.entries(info)
    .map(
      ([k, v]) =>
        `${k}=${typeof v === 'number' ? (Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v * 100) / 100) : v.toPrecision(4)) : v}`,
    )
    .join(' ');

export function progress(opts: ProgressOptions): Progress {
  const quiet = opts.quiet ?? process.env.DETRLAB_QUIET === '1';
  const unit = opts.unit ?? 'it';
  const startValue = opts.start ?? 0;
  let label = opts.label;
  let total = opts.total;
  let value = startValue;
  let info: Record<string, number | string> = {};
  const t0 = Date.now();
  let lastDraw = 0;
  let finished = false;
  const nb = quiet ? undefined : tslab();
  let display: TslabDisplay | undefined;
  const isTty = Boolean(process.stderr.isTTY);

  const line = (final: boolean) => {
    const el = (Date.now() - t0) / 1000;
    const rate = (value - startValue) / Math.max(el, 1e-9);
    const count =
      unit === 'B'
        ? `${fmtBytes(value)}${total ? `/${fmtBytes(total)}` : ''}`
        : `${value}${total ? `/${total}` : ''} ${unit}`;
    const pct = total ? ` ${((100 * value) / total).toFixed(0).padStart(3)}%` : '';
    const speed =
      unit === 'B'
        ? `${fmtBytes(rate)}/s`
        : rate >= 1
          ? `${rate.toFixed(2)} ${unit}/s`
          : `${(1 / Math.max(rate, 1e-9)).toFixed(2)} s/${unit}`;
    const eta = !final && total && rate > 0 ? ` ETA ${fmtDuration((total - value) / rate)}` : '';
    const barW = 20;
    const bar = total ? `[${'#'.repeat(Math.round((barW * Math.min(value, total)) / total)).padEnd(barW, '.')}]` : '';
    return {
      el,
      text: `${label}${pct} ${bar} ${count} ${speed} ${final ? `in ${fmtDuration(el)}` : `elapsed ${fmtDuration(el)}${eta}`}${Object.keys(info).length ? ' | ' + fmtInfo(info) : ''}`.replace(
        / +/g,
        ' ',
      ),
    };
  };

  const draw = (final = false) => {
    if (quiet) return;
    const now = Date.now();
    const every = nb ? 500 : isTty ? 100 : 5000;
    if (!final && now - lastDraw < every) return;
    lastDraw = now;
    const { text } = line(final);
    if (nb) {
      display ??= nb.newDisplay();
      const pct = total ? Math.min(100, (100 * value) / total) : 0;
      const esc = text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      // The class and data-final attribute let the notebook runner forward this bar to its console.
      const cls = `class="detrlab-progress"${final ? ' data-final="1"' : ''}`;
      display.html(
        `<div ${cls} style="font-family:monospace;font-size:12px"><progress value="${pct.toFixed(1)}" max="100" style="width:240px;vertical-align:middle"></progress> ${esc}</div>`,
      );
    } else if (isTty) {
      process.stderr.write(`\r\x1b[K${final && opts.transient ? '' : text}${final && !opts.transient ? '\n' : ''}`);
    } else {
      process.stderr.write(text + '\n');
    }
  };

  return {
    get value() {
      return value;
    },
    tick(n = 1, i) {
      value += n;
      if (i) info = { ...info, ...i };
      draw();
    },
    set(v, i) {
      value = v;
      if (i) info = { ...info, ...i };
      draw();
    },
    setTotal(t) {
      total = t;
    },
    done(i) {
      if (i) info = { ...info, ...i };
      finished = true;
      draw(true);
    },
    setLabel(l) {
      label = l;
    },
    log(text) {
      if (!quiet && !nb && isTty && lastDraw > 0 && !finished) {
        process.stderr.write(`\r\x1b[K`);
        console.log(text);
        lastDraw = 0; // redraw at once below the new line
        draw();
      } else console.log(text);
    },
  };
}
