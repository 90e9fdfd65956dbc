/**
 * A contact sheet: many images (e.g. overlay PNGs) in a grid of equal-width cells, each with a caption
 * under it, optionally a title above. Cells keep each image's aspect ratio; a row is as tall as its
 * tallest image.
 *
 *   const png = await contactSheet(files.map((f) => ({ image: f, caption: path.basename(f) })), { columns: 3 });
 */
import * as fs from 'node:fs';
import sharp from 'sharp';
import { escapeXml, FONT } from './overlay.js';

export interface SheetItem {
  image: string | Uint8Array;
  caption?: string;
}
export interface SheetOptions {
  columns?: number;
  cellWidth?: number;
  gap?: number;
  title?: string;
  fontSize?: number;
}

const textSvg = (text: string, width: number, height: number, size: number, anchor: 'start' | 'middle') =>
  Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><text x="${anchor === 'middle' ? width / 2 : 4}" y="${height - 5}" ` +
      `font-family="${FONT}" font-size="${size}" text-anchor="${anchor}" fill="#222222">${escapeXml(text)}</text></svg>`,
  );

/** PNG bytes of the sheet (columns default: ⌈√n⌉, at most 6). */
export async function contactSheet(items: SheetItem[], o: SheetOptions = {}): Promise<Buffer> {
  if (items.length === 0) throw new Error('contactSheet: no images');
  const cols = Math.max(1, Math.min(items.length, o.columns ?? Math.min(6, Math.ceil(Math.sqrt(items.length)))));
  const cw = o.cellWidth ?? 360,
    gap = o.gap ?? 8,
    size = o.fontSize ?? 12;
  const capH = items.some((i) => i.caption) ? size + 8 : 0,
    titleH = o.title ? size + 14 : 0;
  const cells = await Promise.all(
    items.map(async (it) => {
      const bytes = typeof it.image === 'string' ? readImageFile(it.image) : Buffer.from(it.image);
      const { data, info } = await sharp(bytes).resize({ width: cw }).png().toBuffer({ resolveWithObject: true });
      return { data, height: info.height, caption: it.caption };
    }),
  );
  const layers: sharp.OverlayOptions[] = [];
  let top = titleH + gap;
  for (let r = 0; r * cols < cells.length; r++) {
    const row = cells.slice(r * cols, (r + 1) * cols);
    row.forEach((c, i) => {
      const left = gap + i * (cw + gap);
      layers.push({ input: c.data, left, top });
      if (c.caption) layers.push({ input: textSvg(c.caption, cw, capH, size, 'middle'), left, top: top + c.height });
    });
    top += Math.max(...row.map((c) => c.height)) + capH + gap;
  }
  const width = gap + cols * (cw + gap);
  if (o.title) layers.push({ input: textSvg(o.title, width, titleH, size + 3, 'start'), left: 0, top: 0 });
  return sharp({ create: { width, height: top, channels: 3, background: '#ffffff' } })
    .composite(layers)
    .png()
    .toBuffer();
}

function readImageFile(file: string): Buffer {
  if (!fs.existsSync(file)) throw new Error(`contactSheet: ${file} does not exist`);
  return fs.readFileSync(file);
}
