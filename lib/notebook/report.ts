/**
 * One self-contained HTML page from executed notebooks: a table of contents with each stage's status
 * and wall time, then every notebook's markdown, (folded) code and outputs. Images and SVG charts are
 * inlined, so the file can be mailed or archived on its own.
 */
import { Notebook, Output, sourceOf, textOf } from './nbformat.js';

export interface ReportStage {
  /** File name, e.g. `03_train_detr.ipynb`. */
  name: string;
  status: 'ok' | 'failed' | 'cached' | 'not run';
  ms: number;
  nb?: Notebook;
  error?: string;
}

export interface ReportMeta { title: string; profile: string; started: Date; parameters?: Record<string, unknown>; environment?: Record<string, unknown> }

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
const anchor = (name: string) => 'stage-' + name.replace(/\.ipynb$/, '').replace(/[^A-Za-z0-9_-]/g, '-');
export const fmtMs = (ms: number): string => (ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);

type MarkedFn = (src: string) => string;
let markedFn: MarkedFn | undefined;
async function markdownRenderer(): Promise<MarkedFn> {
  if (!markedFn) {
    const { marked } = (await import('marked')) as unknown as { marked: { parse(s: string, o: object): string } };
    markedFn = (s) => marked.parse(s, { async: false, gfm: true });
  }
  return markedFn;
}

function renderOutput(o: Output, md: MarkedFn): string {
  switch (o.output_type) {
    case 'stream':
      return `<pre class="out stream ${o.name}">${esc(stripAnsi(textOf(o.text)))}</pre>`;
    case 'error':
      return `<pre class="out error">${esc(stripAnsi([`${o.ename}: ${o.evalue}`, ...o.traceback].join('\n')))}</pre>`;
    default: {
      const d = o.data as Record<string, unknown>;
      // A chart (show(): svg + png + an <img> in text/html) is inlined as its SVG: vector, selectable text.
      if (d['image/svg+xml'] !== undefined) return `<div class="out svg">${textOf(d['image/svg+xml'])}</div>`;
      if (d['text/html'] !== undefined) return `<div class="out html">${textOf(d['text/html'])}</div>`;
      for (const mime of ['image/png', 'image/jpeg', 'image/gif']) {
        if (d[mime] !== undefined) return `<div class="out img"><img src="data:${mime};base64,${textOf(d[mime]).replace(/\s/g, '')}"/></div>`;
      }
      if (d['text/markdown'] !== undefined) return `<div class="out md">${md(textOf(d['text/markdown']))}</div>`;
      if (d['text/plain'] !== undefined) return `<pre class="out plain">${esc(stripAnsi(textOf(d['text/plain'])))}</pre>`;
      return '';
    }
  }
}

function renderNotebook(nb: Notebook, md: MarkedFn): string {
  return nb.cells.map((c) => {
    if (c.cell_type === 'markdown') return `<div class="md">${md(sourceOf(c))}</div>`;
    if (c.cell_type !== 'code') return '';
    const tags = c.metadata.tags ?? [];
    const label = tags.includes('parameters') ? 'parameters' : tags.includes('injected-parameters') ? 'injected parameters' : 'code';
    const dur = (c.metadata.detrlab as { duration_ms?: number } | undefined)?.duration_ms;
    const code = `<details class="code"${tags.length ? ' open' : ''}><summary>${label}${dur !== undefined ? ` · ${fmtMs(dur)}` : ''}</summary><pre>${esc(sourceOf(c))}</pre></details>`;
    return code + c.outputs.map((o) => renderOutput(o, md)).join('\n');
  }).join('\n');
}

const CSS = `body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #333}section.stage{border-top:1px solid #ccc;margin-top:2.5em}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:12px}pre.error{background:#fff0f0;color:#a00;border-left:4px solid #d00}
pre.stderr{background:#fffbe6}details.code summary{cursor:pointer;color:#666;font-size:12px}details.code pre{background:#f0f0f0}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px}th{background:#f3f3f3}
.toc td.ok{color:#080}.toc td.failed{color:#c00;font-weight:bold}.toc td.cached{color:#068}.toc td.not-run{color:#999}
.out.img img{max-width:100%}.out.svg svg{max-width:100%;height:auto}.meta{color:#666;font-size:12px}`;

export async function renderReport(stages: ReportStage[], meta: ReportMeta): Promise<string> {
  const md = await markdownRenderer();
  const total = stages.reduce((a, s) => a + (s.status === 'not run' ? 0 : s.ms), 0);
  const toc = stages.map((s) => `<tr><td><a href="#${anchor(s.name)}">${esc(s.name.replace(/\.ipynb$/, ''))}</a></td><td class="${s.status.replace(' ', '-')}">${s.status}</td><td style="text-align:right">${s.status === 'not run' ? '' : fmtMs(s.ms)}</td></tr>`).join('\n');
  const body = stages.map((s) => `<section class="stage" id="${anchor(s.name)}"><p class="meta">${esc(s.name)} · ${s.status}${s.status === 'not run' ? '' : ` · ${fmtMs(s.ms)}`}</p>
${s.error ? `<pre class="error">${esc(stripAnsi(s.error))}</pre>` : ''}${s.nb ? renderNotebook(s.nb, md) : ''}</section>`).join('\n');
  const params = meta.parameters && Object.keys(meta.parameters).length ? `<p class="meta">parameters: <code>${esc(JSON.stringify(meta.parameters))}</code></p>` : '';
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(meta.title)}</title><style>${CSS}</style></head><body>
<h1>${esc(meta.title)}</h1><p class="meta">profile <b>${esc(meta.profile)}</b> · started ${meta.started.toISOString()} · total ${fmtMs(total)}</p>${params}
<h2>Contents</h2><table class="toc"><tr><th>stage</th><th>status</th><th>wall time</th></tr>
${toc}</table>
${body}
</body></html>
`;
}
