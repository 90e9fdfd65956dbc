/**
 * The notebook runner's console while a stage runs: the progress bar the stage shows in its notebook
 * (lib/viz/progress.ts marks it `class="detrlab-progress"`) becomes one live line, and what the stage
 * prints (stdout/stderr streams: the training table, `[train] …` notices) becomes permanent lines above it.
 * In a terminal the live line is redrawn in place; when the output is a file or pipe (CI logs) it is
 * written as a plain line at most every `everyMs`; with DETRLAB_QUIET=1 only permanent runner lines show.
 */

/** The text of a progress display: the html's tag-free text, when the html is a detrlab progress bar. */
export function progressText(html: string): { text: string; final: boolean } | undefined {
  if (!html.includes('class="detrlab-progress"')) return undefined;
  const text = html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
  return { text, final: html.includes('data-final="1"') };
}

export interface LiveConsoleOptions {
  write?: (s: string) => void;
  isTty?: boolean;
  columns?: number;
  quiet?: boolean;
  /** Least time between two progress lines when not a terminal. */
  everyMs?: number;
  /** A finished bar that ran at least this long stays as a permanent line. */
  keepMs?: number;
  now?: () => number;
}

export class LiveConsole {
  private readonly write: (s: string) => void;
  private readonly tty: boolean;
  private readonly quiet: boolean;
  private readonly everyMs: number;
  private readonly keepMs: number;
  private readonly now: () => number;
  private live = '';
  private lastPlain = -Infinity;
  private readonly firstSeen = new Map<string, number>();
  private partial = '';

  constructor(private readonly opts: LiveConsoleOptions = {}) {
    this.write = opts.write ?? ((s) => process.stderr.write(s));
    this.tty = opts.isTty ?? Boolean(process.stderr.isTTY);
    this.quiet = opts.quiet ?? process.env.DETRLAB_QUIET === '1';
    this.everyMs = opts.everyMs ?? 30_000;
    this.keepMs = opts.keepMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  private fit(s: string): string {
    const w = (this.opts.columns || process.stderr.columns || 120) - 1; // a pty may report 0 columns
    return s.length > w ? s.slice(0, Math.max(10, w - 1)) + '…' : s;
  }

  /** A permanent line (clears the live line first in a terminal, then redraws it below). */
  line(s: string): void {
    if (this.tty && this.live) this.write('\r\x1b[K');
    this.write(s + '\n');
    if (this.tty && this.live) this.write(this.fit(this.live));
  }

  /** A progress update from display `id` of the running stage. */
  progress(prefix: string, id: string, text: string, final: boolean): void {
    if (this.quiet) return;
    const t = this.now();
    const first = this.firstSeen.get(id) ?? t;
    this.firstSeen.set(id, first);
    const s = `${prefix} ${text}`;
    if (final) {
      this.firstSeen.delete(id);
      if (this.tty && this.live) this.write('\r\x1b[K'); // a finished bar leaves the live line
      this.live = '';
      if (t - first >= this.keepMs) this.line(s);
      return;
    }
    if (this.tty) {
      this.live = s;
      this.write('\r\x1b[K' + this.fit(s));
    } else if (t - this.lastPlain >= this.everyMs) {
      this.lastPlain = t;
      this.write(s + '\n');
    }
  }

  /** Text a stage printed (stream output): complete lines become permanent lines. */
  stream(prefix: string, text: string): void {
    if (this.quiet) return;
    // eslint-disable-next-line no-control-regex
    const lines = (this.partial + text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      const last = l.split('\r').pop() ?? ''; // a carriage-return redraw keeps its final state
      if (last.trim()) this.line(`${prefix} ${last}`);
    }
  }

  /** Erases the live line (before a stage's end line). */
  clear(): void {
    if (this.tty && this.live) this.write('\r\x1b[K');
    this.live = '';
    const rest = this.partial.split('\r').pop() ?? '';
    this.partial = '';
    if (rest.trim() && !this.quiet) this.write(rest + '\n');
  }
}
