/**
 * Drawing primitives of the demo dataset with exact bounding boxes, and their SVG.
 *
 * Every primitive's extent is known in closed form (strokes use round caps and joins, so a stroked
 * polyline's extent is its points' box grown by half the stroke width), so a figure's box — the union
 * of its primitives' boxes, mapped through an axis-aligned scale/mirror/translate — is exact.
 */

/** `[x0, y0, x1, y1]` absolute corners. */
export type BoxXyxy = [number, number, number, number];

export type Prim =
  | { k: 'rect'; x: number; y: number; w: number; h: number; rx?: number; fill: string }
  | { k: 'circle'; cx: number; cy: number; r: number; fill: string }
  | { k: 'ellipse'; cx: number; cy: number; rx: number; ry: number; fill: string }
  | { k: 'poly'; pts: number[]; fill: string }
  /** Open polyline, stroked with round caps and joins. */
  | { k: 'line'; pts: number[]; sw: number; stroke: string }
  /** Circle outline (no fill). */
  | { k: 'ring'; cx: number; cy: number; r: number; sw: number; stroke: string };

/** A figure in its own frame; `box` is the union of its primitives' boxes. */
export interface Figure {
  prims: Prim[];
  box: BoxXyxy;
}

const ptsBox = (pts: number[], grow = 0): BoxXyxy => {
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let i = 0; i < pts.length; i += 2) {
    x0 = Math.min(x0, pts[i]);
    x1 = Math.max(x1, pts[i]);
    y0 = Math.min(y0, pts[i + 1]);
    y1 = Math.max(y1, pts[i + 1]);
  }
  return [x0 - grow, y0 - grow, x1 + grow, y1 + grow];
};

export function primBox(p: Prim): BoxXyxy {
  switch (p.k) {
    case 'rect':
      return [p.x, p.y, p.x + p.w, p.y + p.h];
    case 'circle':
      return [p.cx - p.r, p.cy - p.r, p.cx + p.r, p.cy + p.r];
    case 'ellipse':
      return [p.cx - p.rx, p.cy - p.ry, p.cx + p.rx, p.cy + p.ry];
    case 'poly':
      return ptsBox(p.pts);
    case 'line':
      return ptsBox(p.pts, p.sw / 2);
    case 'ring': {
      const r = p.r + p.sw / 2;
      return [p.cx - r, p.cy - r, p.cx + r, p.cy + r];
    }
  }
}

export function unionBox(boxes: BoxXyxy[]): BoxXyxy {
  return boxes.reduce<BoxXyxy>(
    (u, b) => [Math.min(u[0], b[0]), Math.min(u[1], b[1]), Math.max(u[2], b[2]), Math.max(u[3], b[3])],
    [Infinity, Infinity, -Infinity, -Infinity],
  );
}

const q2 = (x: number) => Math.round(x * 100) / 100;

/** Rounds every coordinate to 0.01 (what the SVG prints), so the box is the box of what is drawn. */
function quantize(p: Prim): Prim {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) out[k] = typeof v === 'number' ? q2(v) : Array.isArray(v) ? v.map(q2) : v;
  return out as unknown as Prim;
}

export function figure(prims: Prim[]): Figure {
  const q = prims.map(quantize);
  return { prims: q, box: unionBox(q.map(primBox)) };
}

/** Placement values as printed in the SVG (x, y to 0.01; scales to 1e-4). */
export const quantizePlacement = (p: Placement): Placement => ({
  x: q2(p.x),
  y: q2(p.y),
  sx: Math.round(p.sx * 1e4) / 1e4,
  sy: Math.round(p.sy * 1e4) / 1e4,
  mirror: p.mirror,
});

const f2 = (x: number) => (Math.round(x * 100) / 100).toString();
const pts = (a: number[]) => a.map(f2).join(' ');

export function primSvg(p: Prim): string {
  switch (p.k) {
    case 'rect':
      return `<rect x="${f2(p.x)}" y="${f2(p.y)}" width="${f2(p.w)}" height="${f2(p.h)}"${p.rx ? ` rx="${f2(p.rx)}"` : ''} fill="${p.fill}"/>`;
    case 'circle':
      return `<circle cx="${f2(p.cx)}" cy="${f2(p.cy)}" r="${f2(p.r)}" fill="${p.fill}"/>`;
    case 'ellipse':
      return `<ellipse cx="${f2(p.cx)}" cy="${f2(p.cy)}" rx="${f2(p.rx)}" ry="${f2(p.ry)}" fill="${p.fill}"/>`;
    case 'poly':
      return `<polygon points="${pts(p.pts)}" fill="${p.fill}"/>`;
    case 'line':
      return `<polyline points="${pts(p.pts)}" fill="none" stroke="${p.stroke}" stroke-width="${f2(p.sw)}" stroke-linecap="round" stroke-linejoin="round"/>`;
    case 'ring':
      return `<circle cx="${f2(p.cx)}" cy="${f2(p.cy)}" r="${f2(p.r)}" fill="none" stroke="${p.stroke}" stroke-width="${f2(p.sw)}"/>`;
  }
}

/** Where a figure goes: its box's top-left at (x, y), scaled by (sx, sy) > 0, optionally mirrored. */
export interface Placement {
  x: number;
  y: number;
  sx: number;
  sy: number;
  mirror: boolean;
}

/** The image-space box of a placed figure (before clipping to the image). */
export function placedBox(f: Figure, p: Placement): BoxXyxy {
  return [p.x, p.y, p.x + (f.box[2] - f.box[0]) * p.sx, p.y + (f.box[3] - f.box[1]) * p.sy];
}

/** The figure as an SVG group with the placement's transform (mirroring keeps the same box). */
export function placedSvg(f: Figure, p: Placement): string {
  const w = (f.box[2] - f.box[0]) * p.sx;
  const t = p.mirror
    ? `translate(${p.x + w} ${p.y}) scale(${-p.sx} ${p.sy}) translate(${-f.box[0]} ${-f.box[1]})`
    : `translate(${p.x} ${p.y}) scale(${p.sx} ${p.sy}) translate(${-f.box[0]} ${-f.box[1]})`;
  return `<g transform="${t}">${f.prims.map(primSvg).join('')}</g>`;
}

/** Clips a box to the image; undefined if nothing is left. */
export function clipBox(b: BoxXyxy, w: number, h: number): BoxXyxy | undefined {
  const c: BoxXyxy = [Math.max(0, b[0]), Math.max(0, b[1]), Math.min(w, b[2]), Math.min(h, b[3])];
  return c[2] > c[0] && c[3] > c[1] ? c : undefined;
}
