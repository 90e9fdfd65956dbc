/**
 * Animal figures of the demo dataset, side views facing right: bird, cat, dog, horse, sheep, cow, elephant.
 */
import { Rng } from '../../engine/rng.js';
import { figure, Figure, Prim } from './shapes.js';
import { C, DARK, E, L, P, R, shade, tint } from './paint.js';

const legs = (c: string, sw: number, top: number, bottom: number, xs: number[]): Prim[] =>
  xs.map((x) => L(c, sw, x, top, x, bottom));
const fur = (rng: Rng): string =>
  rng.pick([
    tint(rng, [20, 35], [0.4, 0.7], [0.25, 0.45]),
    tint(rng, [0, 360], [0, 0.05], [0.15, 0.7]),
    tint(rng, [25, 35], [0.8, 0.95], [0.5, 0.6]),
  ]);

export function bird(rng: Rng): Figure {
  const c = tint(rng, [0, 360], [0.3, 0.9], [0.3, 0.6]);
  return figure([
    P(c, 8, 18, -6, 11, -6, 26),
    L('#cc8a1a', 1.5, 22, 29, 20, 40),
    L('#cc8a1a', 1.5, 28, 29, 30, 40),
    E(24, 20, 18, 11, c),
    C(42, 12, 8, c),
    P('#f0a020', 49, 9, 59, 13, 49, 16),
    C(45, 10, 1.6, DARK),
    P(shade(c, 0.7), 12, 16, 32, 14, 22, 29),
  ]);
}

export function cat(rng: Rng): Figure {
  const c = fur(rng);
  return figure([
    L(c, 4, 10, 32, 2, 20, 5, 8),
    ...legs(c, 4, 40, 54, [16, 24, 38, 46]),
    E(30, 34, 22, 11, c),
    P(c, 46, 16, 48, 3, 56, 12),
    P(c, 58, 12, 66, 3, 67, 16),
    C(57, 22, 11, c),
    C(53, 20, 1.8, '#6bbf3a'),
    C(61, 20, 1.8, '#6bbf3a'),
    P('#e58a9a', 56, 25, 58, 25, 57, 27),
  ]);
}

export function dog(rng: Rng): Figure {
  const c = fur(rng);
  return figure([
    L(c, 4, 10, 26, 0, 12),
    ...legs(c, 5, 34, 56, [14, 24, 42, 50]),
    E(32, 30, 24, 11, c),
    C(62, 18, 11, c),
    E(73, 23, 8, 5, shade(c, 0.9)),
    C(79, 21, 2.2, DARK),
    E(57, 22, 4, 9, shade(c, 0.6)),
    C(64, 14, 1.6, DARK),
  ]);
}

export function horse(rng: Rng): Figure {
  const c = rng.pick(['#7b4a26', '#3b2a1e', '#c9b79c', '#f2f0ea', '#a0522d']);
  const mane = shade(c, 0.45);
  return figure([
    L(mane, 4, 12, 30, 3, 44, 5, 58),
    ...legs(c, 5, 44, 80, [18, 28, 54, 64]),
    E(40, 36, 30, 14, c),
    P(c, 56, 32, 64, 4, 76, 6, 72, 34),
    P(c, 66, 1, 90, 7, 92, 15, 74, 14),
    L(mane, 3.5, 60, 26, 64, 4),
    C(80, 7, 1.5, DARK),
  ]);
}

export function sheep(rng: Rng): Figure {
  const wool = tint(rng, [35, 50], [0.1, 0.35], [0.85, 0.95]);
  const face = rng.bool(0.7) ? '#2a2a2a' : '#e8dcc8';
  const blobs: Prim[] = [
    [16, 24, 10],
    [28, 18, 11],
    [40, 20, 11],
    [50, 27, 10],
    [34, 30, 11],
    [20, 32, 10],
    [46, 34, 9],
  ].map(([x, y, r]) => C(x, y, r, wool));
  return figure([...legs(DARK, 3.5, 38, 52, [20, 28, 42, 50]), ...blobs, E(61, 22, 7, 9, face), E(56, 16, 4, 2, face)]);
}

export function cow(rng: Rng): Figure {
  const base = rng.bool(0.6) ? '#f4f4f0' : '#8b5a2b';
  const spot = base === '#f4f4f0' ? '#1e1e1e' : '#f4f4f0';
  const spots: Prim[] = [];
  for (let i = 0; i < rng.int(2, 4); i++)
    spots.push(E(rng.uniform(10, 52), rng.uniform(18, 34), rng.uniform(5, 9), rng.uniform(4, 7), spot));
  return figure([
    L(base, 2.5, 2, 16, -4, 34),
    ...legs(base, 5, 38, 64, [8, 18, 46, 56]),
    R(0, 12, 64, 30, base, 8),
    ...spots,
    E(30, 42, 6, 3, '#e8a0a8'),
    L('#d8d0b0', 2.5, 64, 7, 60, 0),
    L('#d8d0b0', 2.5, 76, 7, 80, 0),
    R(61, 5, 18, 21, base, 5),
    E(70, 24, 8, 5, '#e8a0a8'),
    C(66, 12, 1.6, DARK),
    C(74, 12, 1.6, DARK),
  ]);
}

export function elephant(rng: Rng): Figure {
  const g = tint(rng, [200, 230], [0.02, 0.1], [0.45, 0.6]);
  const d = shade(g, 0.8);
  return figure([
    L(d, 2.5, 10, 34, 4, 50),
    R(18, 52, 12, 30, d, 3),
    R(58, 54, 12, 28, d, 3),
    E(44, 40, 34, 24, g),
    R(30, 56, 12, 26, g, 3),
    R(70, 52, 12, 30, g, 3),
    C(80, 30, 16, g),
    E(72, 32, 9, 15, d),
    L(g, 7, 92, 36, 98, 52, 96, 66, 100, 70),
    L('#f6f1e0', 2.5, 88, 44, 97, 48),
    C(86, 24, 1.8, DARK),
  ]);
}
