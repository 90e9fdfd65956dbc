/**
 * Box overlays on images (PNG) with sharp + SVG: each box an outline in its colour over a dark halo
 * (readable on light and dark images), a label tag (text on the box colour, black or white by
 * luminance), dashed outlines where asked (crowd regions). Panels are scaled so the longer side is
 * `maxSide` pixels, and lines/text are drawn at that scale (crisp on 128-px demo images too).
 *
 *   const png = await drawBoxes('img.jpg', [{ bboxXywh: [10, 20, 50, 40], color: classColor(3), text: 'car 0.91' }], { title: 'predictions' });
 *   const both = await sideBySide([gtPng, predPng]);
 */
import sharp from 'sharp';
import type { BoxXywhAbs } from '../coco/types.js';
import type { RgbImage } from '../data/types.js';

/** A box in the image's own pixel coordinates [x, y, w, h], its outline colour, an optional label. */
export interface OverlayBox {
  bboxXywh: BoxXywhAbs;
  color: string;
  text?: string;
  dashed?: boolean;
}

/** An image: a file path, encoded bytes (PNG/JPEG/…), or raw 8-bit RGB. */
export type ImageInput = string | Uint8Array | RgbImage;

export interface PanelOptions {
  /** Longer side of the drawn image in pixels (default 480; the image is scaled up or down). */
  maxSide?: number;
  /** A caption strip above the image. */
  title?: string;
  /** Outline width in output pixels (default 2). */
  lineWidth?: number;
  /** Label text size in output pixels (default 12). */
  fontSize?: number;
}

/**
 * 20 colours chosen to be told apart (Sasha Trubetskoy, "List of 20 simple, distinct colors"), in that
 * list's order, so a class keeps its colour in every figure: colour = PALETTE[label % 20].
 */
export const CLASS_PALETTE: readonly string[] = [
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#bfef45',
  '#ffe119',
  '#469990',
  '#9a6324',
  '#800000',
  '#808000',
  '#000075',
  '#fabed4',
  '#dcbeff',
  '#aaffc3',
  '#ffd8b1',
  '#a9a9a9',
  '#ffffff',
];
export const classColor = (label: number): string =>
  CLASS_PALETTE[((label % CLASS_PALETTE.length) + CLASS_PALETTE.length) % CLASS_PALETTE.length];

export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
export const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Black or white, whichever reads better on `hex` (WCAG relative luminance threshold). */
export function textColorOn(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lin((n >> 16) & 255) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  return l > 0.179 ? '#000000' : '#ffffff';
}

const f1 = (x: number) => (Math.round(x * 10) / 10).toString();

/** One box: halo, outline, and a label tag above the box (inside it when the box touches the top). */
function boxSvg(b: OverlayBox, scale: number, top: number, width: number, lw: number, fs: number): string {
  const [x, y, w, h] = b.bboxXywh.map((v) => v * scale);
  const dash = b.dashed ? ` stroke-dasharray="${f1(4 * lw)} ${f1(3 * lw)}"` : '';
  const rect = (stroke: string, sw: number, extra: string) =>
    `<rect x="${f1(x)}" y="${f1(top + y)}" width="${f1(Math.max(w, 0))}" height="${f1(Math.max(h, 0))}" fill="none" stroke="${stroke}" stroke-width="${f1(sw)}"${extra}/>`;
  let s = rect('#000000', lw + 2, ` stroke-opacity="0.55"${dash}`) + rect(b.color, lw, dash);
  if (b.text) {
    const th = fs + 4,
      tw = Math.min(width, b.text.length * fs * 0.62 + 6);
    const tx = Math.max(0, Math.min(x - lw / 2, width - tw));
    const ty = y - th >= 0 ? top + y - th : top + Math.max(y, 0);
    s +=
      `<rect x="${f1(tx)}" y="${f1(ty)}" width="${f1(tw)}" height="${th}" fill="${b.color}" fill-opacity="0.85"/>` +
      `<text x="${f1(tx + 3)}" y="${f1(ty + th - 4)}" font-family="${FONT}" font-size="${fs}" fill="${textColorOn(b.color)}">${escapeXml(b.text)}</text>`;
  }
  return s;
}

/** The SVG layer of a panel: caption strip (height `top`) and boxes scaled by `scale`. */
export function overlaySvg(
  width: number,
  height: number,
  boxes: OverlayBox[],
  scale: number,
  o: PanelOptions & { top: number },
): string {
  const lw = o.lineWidth ?? 2,
    fs = o.fontSize ?? 12;
  const title = o.title
    ? `<rect width="${width}" height="${o.top}" fill="#ffffff"/><text x="4" y="${o.top - 6}" font-family="${FONT}" font-size="${fs + 1}" fill="#222222">${escapeXml(o.title)}</text>`
    : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${title}${boxes.map((b) => boxSvg(b, scale, o.top, width, lw, fs)).join('')}</svg>`;
}

const toSharp = (img: ImageInput): sharp.Sharp =>
  typeof img === 'string' || img instanceof Uint8Array
    ? sharp(typeof img === 'string' ? img : Buffer.from(img))
    : sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
        raw: { width: img.width, height: img.height, channels: 3 },
      });

/** PNG of `image` scaled to `maxSide`, with `boxes` (in the image's own pixel coordinates) drawn on it. */
export async function drawBoxes(image: ImageInput, boxes: OverlayBox[], o: PanelOptions = {}): Promise<Buffer> {
  const meta =
    typeof image === 'object' && 'data' in image
      ? { width: image.width, height: image.height }
      : await toSharp(image).metadata();
  const [w0, h0] = [meta.width ?? 0, meta.height ?? 0];
  if (!(w0 > 0 && h0 > 0)) throw new Error('drawBoxes: image has no size');
  const scale = (o.maxSide ?? 480) / Math.max(w0, h0);
  const [w, h] = [Math.max(1, Math.round(w0 * scale)), Math.max(1, Math.round(h0 * scale))];
  const top = o.title ? (o.fontSize ?? 12) + 10 : 0;
  const pixels = await toSharp(image)
    .removeAlpha()
    .resize(w, h, { fit: 'fill', kernel: scale > 1 ? 'nearest' : 'lanczos3' })
    .png()
    .toBuffer();
  const svg = Buffer.from(overlaySvg(w, h + top, boxes, scale, { ...o, top }));
  return sharp({ create: { width: w, height: h + top, channels: 3, background: '#ffffff' } })
    .composite([
      { input: pixels, left: 0, top },
      { input: svg, left: 0, top: 0 },
    ])
    .png()
    .toBuffer();
}

export interface OverlayPanel {
  boxes: OverlayBox[];
  title: string;
}

/** One image drawn twice with different boxes (e.g. ground truth | predictions), side by side as one PNG. */
export async function overlayPair(
  image: ImageInput,
  left: OverlayPanel,
  right: OverlayPanel,
  maxSide: number,
): Promise<Buffer> {
  const [a, b] = await Promise.all([left, right].map((p) => drawBoxes(image, p.boxes, { maxSide, title: p.title })));
  return sideBySide([a, b]);
}

/** Panels (PNG bytes) placed left to right on white, top-aligned, `gap` pixels apart. */
export async function sideBySide(panels: Uint8Array[], o: { gap?: number } = {}): Promise<Buffer> {
  const gap = o.gap ?? 8;
  const metas = await Promise.all(panels.map((p) => sharp(p).metadata()));
  const width = metas.reduce((s, m) => s + (m.width ?? 0), 0) + gap * Math.max(0, panels.length - 1);
  const height = Math.max(1, ...metas.map((m) => m.height ?? 0));
  let left = 0;
  const layers = panels.map((p, i) => {
    const l = { input: Buffer.from(p), left, top: 0 };
    left += (metas[i].width ?? 0) + gap;
    return l;
  });
  return sharp({ create: { width: Math.max(1, width), height, channels: 3, background: '#ffffff' } })
    .composite(layers)
    .png()
    .toBuffer();
}

/** An HTML legend of the class colours (for `show()`): one swatch per class, in label order. */
export const classLegend = (classes: readonly string[]): { html: string } => ({
  html: `<div style="font:12px ${FONT}">${classes
    .map(
      (c, i) =>
        `<span style="display:inline-block;margin:2px 6px 2px 0;padding:1px 6px;` +
        `background:${classColor(i)};color:${textColorOn(classColor(i))}">${escapeXml(c)}</span>`,
    )
    .join('')}</div>`,
});
