/**
 * One `show()` renders anything a stage returns: in a notebook as rich output, in a terminal as text.
 *   show(spec)                 vega-lite spec → chart, as SVG and PNG in one output (each viewer picks)
 *   show(pngBytes)             an image (PNG/JPEG bytes)
 *   show(rows)                 array of records (or a danfo DataFrame) → table
 *   show('## markdown')        markdown
 *   show({ html: '<b>x</b>' }) raw HTML
 */
import { isVlSpec, renderSvg, svgToPng, VlSpec } from './vega_render.js';
import { htmlTable, Row, textTable } from './table.js';
import { tslab, displayBundle } from './notebook_context.js';
import { escapeXml } from './overlay.js';
import { DataFrameLike, frameRows, isDataFrame } from './frames.js';

export type Showable = VlSpec | Uint8Array | Row[] | DataFrameLike | string | { html: string } | { markdown: string };

const isJpeg = (b: Uint8Array) => b[0] === 0xff && b[1] === 0xd8;

/**
 * A chart as a MIME bundle: image/svg+xml (vector), image/png at 2× density with its CSS size in the
 * metadata (viewers that render only PNG), text/plain, and text/html holding the SVG as an
 * `<img src="data:image/svg+xml;base64,…">`. The last one is for nbconvert: its HTML exporter ranks
 * text/html above image/svg+xml above image/png, and nbconvert 6.x passes inline SVG through lxml's
 * `clean_html`, which strips every drawing element (a blank box); an image's data URI is left alone.
 * JupyterLab also ranks text/html first, so it still shows the vector chart.
 */
export async function chartBundle(
  svg: string,
  title: string,
): Promise<{ data: Record<string, string | Uint8Array>; metadata: Record<string, unknown> }> {
  const { png, width, height } = await svgToPng(svg, 2);
  const img = `<img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" width="${width}" height="${height}" alt="${escapeXml(`chart: ${title}`)}"/>`;
  return {
    data: { 'text/html': img, 'image/svg+xml': svg, 'image/png': png, 'text/plain': `[chart: ${title}]` },
    metadata: { 'image/png': { width, height } },
  };
}

export async function show(x: Showable, opts: { title?: string; digits?: number } = {}): Promise<void> {
  const nb = tslab();
  if (opts.title) {
    if (nb) nb.display.markdown(`**${opts.title}**`);
    else console.log(`\n${opts.title}`);
  }
  if (x instanceof Uint8Array) {
    if (nb) {
      if (isJpeg(x)) nb.display.jpeg(x);
      else nb.display.png(x);
    } else console.log(`[image ${x.length} bytes]`);
    return;
  }
  if (typeof x === 'string') {
    if (nb) nb.display.markdown(x);
    else console.log(x);
    return;
  }
  if (isDataFrame(x)) x = frameRows(x);
  if (Array.isArray(x)) {
    if (nb) nb.display.html(htmlTable(x, opts.digits));
    else console.log(textTable(x, opts.digits));
    return;
  }
  if ('html' in x && typeof x.html === 'string') {
    if (nb) nb.display.html(x.html);
    else console.log(x.html.replace(/<[^>]+>/g, ''));
    return;
  }
  if ('markdown' in x && typeof x.markdown === 'string') {
    if (nb) nb.display.markdown(x.markdown);
    else console.log(x.markdown);
    return;
  }
  if (isVlSpec(x)) {
    const title = String((x as { title?: unknown }).title ?? 'vega-lite');
    if (!nb) {
      console.log(`[chart: ${title}]`);
      return;
    }
    const bundle = await chartBundle(await renderSvg(x), title);
    displayBundle(bundle.data, bundle.metadata);
    return;
  }
  throw new TypeError('show(): unsupported value');
}
