/**
 * One self-contained HTML page from executed notebooks: the headline results (detection mAP, the
 * ablation's Δ) linking to their sections, a table of contents with each stage's status and wall time,
 * then every notebook's markdown, (folded) code and outputs. Images and SVG charts are inlined, so the
 * file can be mailed or archived on its own; a click on an image shows it at full size.
 */
import { Notebook, Output, sourceOf, textOf } from './nbformat.js';
import { runSummary } from './run_summary.js';

export interface ReportStage {
  /** File name, e.g. `03_train_detr.ipynb`. */
  name: string;
  /** `earlier run`: not selected this time (`--only`); its executed copy from an earlier run is shown. */
  status: 'ok' | 'failed' | 'cached' | 'earlier run' | 'not run';
  ms: number;
  nb?: Notebook;
  error?: string;
}

export interface ReportMeta {
  title: string;
  profile: string;
  started: Date;
  parameters?: Record<string, unknown>;
  environment?: Record<string, unknown>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
const anchor = (name: string) => 'stage-' + name.replace(/\.ipynb$/, '').replace(/[^A-Za-z0-9_-]/g, '-');
export const fmtMs = (ms: number): string =>
  ms < 1000
    ? `${ms} ms`
    : ms < 60_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;

type MarkedFn = (src: string) => string;
let markedFn: MarkedFn | undefined;
async function markdownRenderer(): Promise<MarkedFn> {
  if (!markedFn) {
    const { marked } = (await import('marked')) as unknown as { marked: { parse(s: string, o: object): string } };
    markedFn = (s) => marked.parse(s, { async: false, gfm: true });
  }
  return markedFn;
}

/** Backend notices belong to the environment stage (00); other stages' copies are dropped from the report. */
const ENGINE_NOTICE = /^\[engine\] .*$\n?/gm;

function renderOutput(o: Output, md: MarkedFn, environment: boolean): string {
  switch (o.output_type) {
    case 'stream': {
      const text = stripAnsi(textOf(o.text));
      const kept = environment ? text : text.replace(ENGINE_NOTICE, '');
      return kept.trim() ? `<pre class="out stream ${o.name}">${esc(kept)}</pre>` : '';
    }
    case 'error':
      return `<pre class="out error">${esc(stripAnsi([`${o.ename}: ${o.evalue}`, ...o.traceback].join('\n')))}</pre>`;
    default: {
      const d = o.data as Record<string, unknown>;
      // A chart (show(): svg + png + an <img> in text/html) is inlined as its SVG: vector, selectable text.
      if (d['image/svg+xml'] !== undefined) return `<div class="out svg">${textOf(d['image/svg+xml'])}</div>`;
      if (d['text/html'] !== undefined) return `<div class="out html">${textOf(d['text/html'])}</div>`;
      for (const mime of ['image/png', 'image/jpeg', 'image/gif']) {
        if (d[mime] !== undefined)
          return `<div class="out img"><img class="zoom" title="click: full size" src="data:${mime};base64,${textOf(d[mime]).replace(/\s/g, '')}"/></div>`;
      }
      if (d['text/markdown'] !== undefined) return `<div class="out md">${md(textOf(d['text/markdown']))}</div>`;
      if (d['text/plain'] !== undefined)
        return `<pre class="out plain">${esc(stripAnsi(textOf(d['text/plain'])))}</pre>`;
      return '';
    }
  }
}

function renderNotebook(nb: Notebook, md: MarkedFn, environment = false): string {
  return nb.cells
    .map((c) => {
      if (c.cell_type === 'markdown') return `<div class="md">${md(sourceOf(c))}</div>`;
      if (c.cell_type !== 'code') return '';
      const tags = c.metadata.tags ?? [];
      const label = tags.includes('parameters')
        ? 'parameters'
        : tags.includes('injected-parameters')
          ? 'injected parameters'
          : 'code';
      const dur = (c.metadata.detrlab as { duration_ms?: number } | undefined)?.duration_ms;
      const code = `<details class="code"${tags.length ? ' open' : ''}><summary>${label}${dur !== undefined ? ` · ${fmtMs(dur)}` : ''}</summary><pre>${esc(sourceOf(c))}</pre></details>`;
      return code + c.outputs.map((o) => renderOutput(o, md, environment)).join('\n');
    })
    .join('\n');
}

const CSS = `body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:2px solid #333}section.stage{border-top:1px solid #ccc;margin-top:2.5em}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:12px}pre.error{background:#fff0f0;color:#a00;border-left:4px solid #d00}
pre.stderr{background:#fffbe6}details.code summary{cursor:pointer;color:#666;font-size:12px}details.code pre{background:#f0f0f0}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px}th{background:#f3f3f3}
.toc td.ok{color:#080}.toc td.failed{color:#c00;font-weight:bold}.toc td.cached{color:#068}.toc td.not-run{color:#999}
.out.img img{max-width:100%;cursor:zoom-in}
#lightbox{display:none;position:fixed;inset:0;background:rgba(0,0,0,.85);overflow:auto;z-index:10;cursor:zoom-out}
#lightbox img{display:block;margin:1em auto;max-width:none;background:#fff}#lightbox.on{display:block}
.summary{background:#f6f8fa;border:1px solid #ddd;padding:.4em 1em;margin:1em 0}.summary .fig{font-size:20px;font-weight:bold}
.summary td{border:none;padding:2px 12px 2px 0}.out.svg svg{max-width:100%;height:auto}.meta{color:#666;font-size:12px}`;

/** Full size on click: an overlay with the image at its natural size (scrollable); a click or Escape closes it. */
const LIGHTBOX = `<div id="lightbox"><img alt=""/></div><script>
(function(){var b=document.getElementById('lightbox'),i=b.querySelector('img');
document.addEventListener('click',function(e){var t=e.target;if(t.classList&&t.classList.contains('zoom')){i.src=t.src;b.classList.add('on');b.scrollTop=0;}
else if(b.classList.contains('on')&&(t===b||t===i)){b.classList.remove('on');}});
document.addEventListener('keydown',function(e){if(e.key==='Escape')b.classList.remove('on');});})();
</script>`;

const f3 = (v: number) => v.toFixed(3);

/** The report's opening: both experiments' headline figures, each linking to the stage that produced it. */
function renderSummary(stages: ReportStage[]): string {
  const s = runSummary(stages);
  const d = s.detection,
    a = s.ablation;
  const det = d
    ? `<td><a href="#${anchor(d.stage)}">Detection</a> (DETR fine-tuned, ${esc(d.split)}${d.images ? `, ${d.images} images` : ''})</td>
<td>mAP <span class="fig">${f3(d.map)}</span></td><td>mAP50 <span class="fig">${f3(d.map50)}</span></td><td>AR@100 <span class="fig">${f3(d.ar100)}</span></td>`
    : '<td>Detection</td><td colspan="3">no metrics yet (04_eval has not finished)</td>';
  const abl = a
    ? `<td><a href="#${anchor(a.stage)}">Rare-class ablation</a> (classifier best_val_acc)</td>
<td>real <span class="fig">${f3(a.real)}</span></td><td>real + synth <span class="fig">${f3(a.realSynth)}</span></td>
<td>Δ <span class="fig">${a.delta >= 0 ? '+' : ''}${f3(a.delta)}</span>${a.seeds > 1 && a.deltaStd !== undefined ? ` ± ${f3(a.deltaStd)} (${a.seeds} seeds)` : ''}</td>`
    : '<td>Rare-class ablation</td><td colspan="3">no result yet (09_ablation has not finished)</td>';
  return `<div class="summary"><h2>Results</h2><table><tr>${det}</tr><tr>${abl}</tr></table></div>`;
}

export async function renderReport(stages: ReportStage[], meta: ReportMeta): Promise<string> {
  const md = await markdownRenderer();
  const total = stages.reduce((a, s) => a + (s.status === 'not run' ? 0 : s.ms), 0);
  const toc = stages
    .map(
      (s) =>
        `<tr><td><a href="#${anchor(s.name)}">${esc(s.name.replace(/\.ipynb$/, ''))}</a></td><td class="${s.status.replace(' ', '-')}">${s.status}</td><td style="text-align:right">${s.status === 'not run' ? '' : fmtMs(s.ms)}</td></tr>`,
    )
    .join('\n');
  const body = stages
    .map(
      (
        s,
      ) => `<section class="stage" id="${anchor(s.name)}"><p class="meta">${esc(s.name)} · ${s.status}${s.status === 'not run' ? '' : ` · ${fmtMs(s.ms)}`}</p>
${s.error ? `<pre class="error">${esc(stripAnsi(s.error))}</pre>` : ''}${s.nb ? renderNotebook(s.nb, md, /^00_/.test(s.name)) : ''}</section>`,
    )
    .join('\n');
  const params =
    meta.parameters && Object.keys(meta.parameters).length
      ? `<p class="meta">parameters: <code>${esc(JSON.stringify(meta.parameters))}</code></p>`
      : '';
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(meta.title)}</title><style>${CSS}</style></head><body>
<h1>${esc(meta.title)}</h1><p class="meta">profile <b>${esc(meta.profile)}</b> · started ${meta.started.toISOString()} · total ${fmtMs(total)}</p>${params}
${renderSummary(stages)}
<h2>Contents</h2><table class="toc"><tr><th>stage</th><th>status</th><th>wall time</th></tr>
${toc}</table>
${body}
${LIGHTBOX}
</body></html>
`;
}
