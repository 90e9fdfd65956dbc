/**
 * Vega-Lite spec → SVG (and PNG through sharp), headless in Node. Charts are rendered to SVG so they
 * survive nbconvert and the HTML report without any JavaScript.
 */
export type VlSpec = Record<string, unknown>;

type VegaModule = {
  parse(spec: unknown, config?: unknown): unknown;
  View: new (
    runtime: unknown,
    opts: { renderer: string },
  ) => { toSVG(scale?: number): Promise<string>; finalize(): void };
};
type VegaLiteModule = { compile(spec: unknown): { spec: unknown } };

let mods: Promise<[VegaModule, VegaLiteModule]> | undefined;
const load = () =>
  (mods ??= Promise.all([import('vega') as Promise<unknown>, import('vega-lite') as Promise<unknown>]) as Promise<
    [VegaModule, VegaLiteModule]
  >);

/** Default look shared by every chart. */
const BASE_CONFIG = {
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
};

export async function renderSvg(spec: VlSpec): Promise<string> {
  const [vega, vl] = await load();
  const full = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    ...spec,
    config: { ...BASE_CONFIG, ...((spec.config as object) ?? {}) },
  };
  const compiled = vl.compile(full).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of a chart (SVG rasterised by sharp/librsvg). */
export async function renderPng(spec: VlSpec, density = 144): Promise<Buffer> {
  return (await svgToPng(await renderSvg(spec), density / 72)).png;
}

/** An SVG rasterised at `scale` × its own size (librsvg: 72 dpi = 1×), on white; `width`/`height` = the SVG's size. */
export async function svgToPng(svg: string, scale = 2): Promise<{ png: Buffer; width: number; height: number }> {
  const sharp = (await import('sharp')).default;
  const meta = await sharp(Buffer.from(svg)).metadata();
  const png = await sharp(Buffer.from(svg), { density: 72 * scale })
    .flatten({ background: '#ffffff' })
    .png()
    .toBuffer();
  return { png, width: meta.width ?? 0, height: meta.height ?? 0 };
}

export const isVlSpec = (x: unknown): x is VlSpec =>
  typeof x === 'object' &&
  x !== null &&
  !Array.isArray(x) &&
  !(x instanceof Uint8Array) &&
  ('mark' in x || 'layer' in x || 'hconcat' in x || 'vconcat' in x || 'concat' in x || 'facet' in x || 'repeat' in x);
