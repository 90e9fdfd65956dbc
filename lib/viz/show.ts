/**
 * One `show()` renders anything a stage returns: in a notebook as rich output, in a terminal as text.
 *   show(spec)                 vega-lite spec → SVG chart
 *   show(pngBytes)             an image (PNG/JPEG bytes)
 *   show(rows)                 array of records (or a danfo DataFrame) → table
 *   show('## markdown')        markdown
 *   show({ html: '<b>x</b>' }) raw HTML
 */
import { isVlSpec, renderSvg, VlSpec } from './vega_render.js';
import { htmlTable, Row, textTable } from './table.js';
import { tslab } from './notebook_context.js';
import { DataFrameLike, frameRows, isDataFrame } from './frames.js';

export type Showable = VlSpec | Uint8Array | Row[] | DataFrameLike | string | { html: string } | { markdown: string };

const isJpeg = (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8;

export async function show(x: Showable, opts: { title?: string; digits?: number } = {}): Promise<void> {
  const nb = tslab();
  if (opts.title) {
    if (nb) nb.display.markdown(`**${opts.title}**`); else console.log(`\n${opts.title}`);
  }
  if (x instanceof Uint8Array) {
    if (nb) { if (isJpeg(x)) nb.display.jpeg(x); else nb.display.png(x); } else console.log(`[image ${x.length} bytes]`);
    return;
  }
  if (typeof x === 'string') {
    if (nb) nb.display.markdown(x); else console.log(x);
    return;
  }
  if (isDataFrame(x)) x = frameRows(x);
  if (Array.isArray(x)) {
    if (nb) nb.display.html(htmlTable(x, opts.digits)); else console.log(textTable(x, opts.digits));
    return;
  }
  if ('html' in x && typeof x.html === 'string') {
    if (nb) nb.display.html(x.html); else console.log(x.html.replace(/<[^>]+>/g, ''));
    return;
  }
  if ('markdown' in x && typeof x.markdown === 'string') {
    if (nb) nb.display.markdown(x.markdown); else console.log(x.markdown);
    return;
  }
  if (isVlSpec(x)) {
    const svg = await renderSvg(x);
    if (nb) nb.display.svg(svg); else console.log(`[chart: ${String((x as { title?: unknown }).title ?? 'vega-lite')}]`);
    return;
  }
  throw new TypeError('show(): unsupported value');
}
