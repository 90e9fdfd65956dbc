/**
 * Labelled image grids (PNG) for notebooks and READMEs: one row per label, fixed square cells.
 * Labels are drawn as SVG text (rasterised by sharp/librsvg).
 */
import * as fs from 'node:fs';
import sharp from 'sharp';

export interface GridRow {
  label: string;
  images: Array<Uint8Array | string>;
}
export interface GridOptions {
  cell?: number;
  gap?: number;
  labelWidth?: number;
  background?: string;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function labelSvg(text: string, width: number, height: number): Buffer {
  const size = Math.max(10, Math.min(16, Math.floor(height / 4)));
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
      `<text x="${width - 6}" y="${height / 2}" font-family="Helvetica, Arial, sans-serif" font-size="${size}" text-anchor="end" dominant-baseline="middle">${escapeXml(text)}</text></svg>`,
  );
}

/** PNG bytes of the grid; images are PNG/JPEG bytes or file paths, each fitted into a cell. */
export async function imageGrid(rows: GridRow[], o: GridOptions = {}): Promise<Buffer> {
  const cell = o.cell ?? 96,
    gap = o.gap ?? 4;
  const labelW = o.labelWidth ?? Math.max(60, 12 + 8 * Math.max(0, ...rows.map((r) => r.label.length))); // ~8 px per character
  const cols = Math.max(1, ...rows.map((r) => r.images.length));
  const width = labelW + cols * (cell + gap) + gap,
    height = rows.length * (cell + gap) + gap;
  const layers: sharp.OverlayOptions[] = [];
  for (const [ri, row] of rows.entries()) {
    const top = gap + ri * (cell + gap);
    layers.push({ input: labelSvg(row.label, labelW, cell), left: 0, top });
    for (const [ci, img] of row.images.entries()) {
      const bytes = typeof img === 'string' ? fs.readFileSync(img) : Buffer.from(img);
      const input = await sharp(bytes)
        .resize(cell, cell, { fit: 'contain', background: o.background ?? '#ffffff' })
        .png()
        .toBuffer();
      layers.push({ input, left: labelW + gap + ci * (cell + gap), top });
    }
  }
  return sharp({ create: { width, height: Math.max(height, 1), channels: 3, background: o.background ?? '#ffffff' } })
    .composite(layers)
    .png()
    .toBuffer();
}
