/**
 * One demo image as an SVG document plus its annotations.
 *
 * Boxes are exact: the placed figure's geometric extent (all of its drawn primitives, including parts
 * hidden by later objects or occluders — an amodal box), clipped to the image. Placement keeps every
 * object mostly visible: ≥ 60 % of its box inside the image, at most 40 % of the smaller box shared
 * with an earlier object, at most 40 % of any box under an occluder.
 */
import { Rng } from '../../engine/rng.js';
import { background, occluder } from './background.js';
import { CROWD_CLASSES, demoClass, DemoClass, sampleClass } from './classes.js';
import { BoxXyxy, clipBox, Figure, Placement, placedBox, placedSvg, quantizePlacement, unionBox } from './shapes.js';

export interface SceneOptions {
  width: number;
  height: number;
  maxObjects?: number;
  /** Multiplies every class's figure size range (classes.ts sizePx); the size is capped at 90 % of the image. */
  objectScale?: number;
  /** Chance of one crowd region in the image. */
  crowdProb?: number;
  /** Chance of occluders (1–2) in the image. */
  occluderProb?: number;
  /** A flat grey background and nothing but the objects (tests of box tightness). */
  plain?: boolean;
}

export interface SceneObject {
  name: string;
  categoryId: number;
  boxXyxy: BoxXyxy;
  iscrowd: boolean;
}
export interface Scene {
  svg: string;
  width: number;
  height: number;
  objects: SceneObject[];
}

const area = (b: BoxXyxy) => Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
const inter = (a: BoxXyxy, b: BoxXyxy): number =>
  area([Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])]);

/** Objects per image 1..8, mean ≈ 3.6. */
const COUNT_WEIGHTS = [14, 20, 20, 16, 12, 8, 6, 4];
function sampleCount(rng: Rng, max: number): number {
  const w = COUNT_WEIGHTS.slice(0, max);
  let u = rng.random() * w.reduce((s, x) => s + x, 0);
  for (let i = 0; i < w.length; i++) {
    u -= w[i];
    if (u < 0) return i + 1;
  }
  return w.length;
}

function place(rng: Rng, f: Figure, longestPx: number, o: SceneOptions): Placement {
  const fw = f.box[2] - f.box[0],
    fh = f.box[3] - f.box[1];
  const s = longestPx / Math.max(fw, fh);
  const a = rng.uniform(0.85, 1.15);
  const [bw, bh] = [fw * s * a, (fh * s) / a];
  return quantizePlacement({
    x: rng.uniform(-0.25 * bw, o.width - 0.75 * bw),
    y: rng.uniform(-0.15 * bh, o.height - 0.85 * bh),
    sx: s * a,
    sy: s / a,
    mirror: rng.bool(0.5),
  });
}

interface Placed {
  name: string;
  categoryId: number;
  box: BoxXyxy;
  clipped: BoxXyxy;
  svg: string;
  iscrowd: boolean;
}

function fits(p: Placed, placed: Placed[]): boolean {
  if (area(p.clipped) < 0.6 * area(p.box) || p.clipped[2] - p.clipped[0] < 4 || p.clipped[3] - p.clipped[1] < 4)
    return false;
  return placed.every((q) => inter(p.box, q.box) <= 0.4 * Math.min(area(p.box), area(q.box)));
}

function tryObject(rng: Rng, cls: DemoClass, o: SceneOptions, scale: number): Placed | undefined {
  const f = cls.draw(rng);
  const k = o.objectScale ?? 1;
  const longest = Math.min(
    rng.uniform(cls.sizePx[0] * k, cls.sizePx[1] * k) * scale,
    0.9 * Math.min(o.width, o.height),
  );
  const p = place(rng, f, longest, o);
  const box = placedBox(f, p);
  const clipped = clipBox(box, o.width, o.height);
  return clipped && { name: cls.name, categoryId: cls.categoryId, box, clipped, svg: placedSvg(f, p), iscrowd: false };
}

/** A group of 6–14 small figures of one class in a jittered grid, annotated as one crowd box. */
function tryCrowd(rng: Rng, o: SceneOptions, scale: number): Placed | undefined {
  const cls = demoClass(rng.pick(CROWD_CLASSES));
  const [rw, rh] = [rng.uniform(30, 56) * scale, rng.uniform(20, 36) * scale];
  const [x0, y0] = [rng.uniform(0, o.width - rw), rng.uniform(0, o.height - rh)];
  const cols = rng.int(3, 5),
    rows = rng.int(2, 3);
  const parts: string[] = [];
  const boxes: BoxXyxy[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const f = cls.draw(rng);
      const size = Math.min(rw / cols, rh / rows) * rng.uniform(1.1, 1.5);
      const p = place(rng, f, size, { ...o, width: 0, height: 0 });
      const q = quantizePlacement({
        ...p,
        x: x0 + (c + rng.uniform(0, 0.4)) * (rw / cols),
        y: y0 + (r + rng.uniform(0, 0.3)) * (rh / rows),
      });
      parts.push(placedSvg(f, q));
      boxes.push(placedBox(f, q));
    }
  }
  const box = unionBox(boxes);
  const clipped = clipBox(box, o.width, o.height);
  return clipped && { name: cls.name, categoryId: cls.categoryId, box, clipped, svg: parts.join(''), iscrowd: true };
}

function addOccluders(rng: Rng, placed: Placed[], o: SceneOptions, scale: number): string[] {
  const out: string[] = [];
  for (let k = rng.int(1, 2); k > 0 && placed.length > 0; k--) {
    for (let attempt = 0; attempt < 15; attempt++) {
      const target = rng.pick(placed).box;
      const f = occluder(rng);
      const p = place(rng, f, rng.uniform(14, 36) * scale, o);
      const q = quantizePlacement({
        ...p,
        x: rng.uniform(target[0] - 10, target[2] - 4),
        y: rng.uniform(target[1] - 4, target[3] - 8),
      });
      const b = placedBox(f, q);
      if (placed.every((t) => inter(b, t.box) <= 0.4 * area(t.box))) {
        out.push(placedSvg(f, q));
        break;
      }
    }
  }
  return out;
}

export function composeScene(rng: Rng, o: SceneOptions): Scene {
  const scale = Math.min(o.width, o.height) / 128;
  const bg = o.plain
    ? `<rect width="${o.width}" height="${o.height}" fill="#808080"/>`
    : background(rng, o.width, o.height);
  const placed: Placed[] = [];
  if (!o.plain && rng.bool(o.crowdProb ?? 0.06)) {
    const c = tryCrowd(rng, o, scale);
    if (c && fits(c, placed)) placed.push(c);
  }
  const n = sampleCount(rng, o.maxObjects ?? 8);
  for (let i = 0; i < n; i++) {
    const cls = sampleClass(rng);
    for (let attempt = 0; attempt < 20; attempt++) {
      const p = tryObject(rng, cls, o, scale);
      if (p && fits(p, placed)) {
        placed.push(p);
        break;
      }
    }
  }
  const occ = !o.plain && rng.bool(o.occluderProb ?? 0.35) ? addOccluders(rng, placed, o, scale) : [];
  const light = o.plain
    ? ''
    : `<rect width="${o.width}" height="${o.height}" fill="${rng.bool(0.5) ? '#000' : '#fff'}" opacity="${rng.uniform(0, 0.2).toFixed(2)}"/>`;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${o.width}" height="${o.height}" viewBox="0 0 ${o.width} ${o.height}">` +
    `${bg}${placed.map((p) => p.svg).join('')}${occ.join('')}${light}</svg>`;
  return {
    svg,
    width: o.width,
    height: o.height,
    objects: placed.map((p) => ({ name: p.name, categoryId: p.categoryId, boxXyxy: p.clipped, iscrowd: p.iscrowd })),
  };
}
