/**
 * Short constructors for primitives and colours, so the figure files read like drawings.
 */
import { Rng } from '../../engine/rng.js';
import { Prim } from './shapes.js';

export const R = (x: number, y: number, w: number, h: number, fill: string, rx = 0): Prim => ({
  k: 'rect',
  x,
  y,
  w,
  h,
  rx,
  fill,
});
export const C = (cx: number, cy: number, r: number, fill: string): Prim => ({ k: 'circle', cx, cy, r, fill });
export const E = (cx: number, cy: number, rx: number, ry: number, fill: string): Prim => ({
  k: 'ellipse',
  cx,
  cy,
  rx,
  ry,
  fill,
});
export const P = (fill: string, ...pts: number[]): Prim => ({ k: 'poly', pts, fill });
export const L = (stroke: string, sw: number, ...pts: number[]): Prim => ({ k: 'line', pts, sw, stroke });
export const O = (cx: number, cy: number, r: number, sw: number, stroke: string): Prim => ({
  k: 'ring',
  cx,
  cy,
  r,
  sw,
  stroke,
});

/** HSL (h in degrees, s and l in 0..1) → `#rrggbb`. */
export function hsl(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => {
    const k = (n + h / 30) % 12;
    const v = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(255 * Math.min(1, Math.max(0, v)))
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}

/** A random colour with hue/saturation/lightness in the given ranges. */
export const tint = (rng: Rng, h: [number, number], s: [number, number], l: [number, number]): string =>
  hsl(rng.uniform(h[0], h[1]) % 360, rng.uniform(s[0], s[1]), rng.uniform(l[0], l[1]));

/** Any saturated colour (paint of vehicles, clothes). */
export const anyPaint = (rng: Rng): string => tint(rng, [0, 360], [0.45, 0.9], [0.3, 0.6]);

/** Multiplies a `#rrggbb` colour's channels by `f` (f < 1 darker, f > 1 lighter). */
export function shade(hex: string, f: number): string {
  const c = [1, 3, 5].map((i) => Math.round(Math.min(255, parseInt(hex.slice(i, i + 2), 16) * f)));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

export const SKIN = ['#f1c27d', '#e0ac69', '#c68642', '#8d5524', '#ffdbac', '#a0662f'];
export const DARK = '#222222';
export const GLASS = '#bfe3f2';
