/**
 * Vehicle figures of the demo dataset, side views facing right (the scene mirrors half of them).
 * Each takes an Rng for colour and proportion and returns a Figure in its own frame.
 */
import { Rng } from '../../engine/rng.js';
import { figure, Figure, Prim } from './shapes.js';
import { anyPaint, C, DARK, E, GLASS, L, O, P, R, shade, tint } from './paint.js';

const wheel = (cx: number, cy: number, r: number): Prim[] => [C(cx, cy, r, DARK), C(cx, cy, r * 0.45, '#9a9a9a')];

export function car(rng: Rng): Figure {
  const c = anyPaint(rng);
  const roof = rng.uniform(2, 8);
  return figure([
    P(shade(c, 0.85), 16, 22, 30, roof, 72, roof, 88, 22),
    P(GLASS, 26, 20, 34, roof + 4, 48, roof + 4, 48, 20),
    P(GLASS, 52, 20, 52, roof + 4, 68, roof + 4, 78, 20),
    R(0, 20, 100, 22, c, 6),
    R(94, 25, 6, 5, '#ffe680', 2),
    R(0, 26, 4, 5, '#d33', 1),
    ...wheel(24, 42, 9),
    ...wheel(76, 42, 9),
  ]);
}

export function truck(rng: Rng): Figure {
  const cab = anyPaint(rng);
  const cargo = rng.bool(0.5) ? tint(rng, [0, 360], [0, 0.15], [0.55, 0.9]) : anyPaint(rng);
  const h = rng.uniform(34, 46);
  return figure([
    R(0, 40 - h, 68, h, cargo, 2),
    R(70, 10, 28, 34, cab, 4),
    R(80, 14, 14, 12, GLASS, 2),
    R(0, 40, 98, 6, '#333333'),
    ...wheel(16, 47, 8),
    ...wheel(36, 47, 8),
    ...wheel(84, 47, 8),
  ]);
}

export function bus(rng: Rng): Figure {
  const c = rng.pick(['#f2c12e', '#d8322a', '#2a6fd8', '#eeeeee', '#2e9e4f']);
  const prims: Prim[] = [R(0, 0, 140, 44, c, 6), R(0, 28, 140, 4, shade(c, 0.7))];
  for (let i = 0; i < 6; i++) prims.push(R(8 + i * 18.5, 7, 13, 15, GLASS, 2));
  prims.push(R(124, 8, 10, 30, shade(c, 0.6), 2), ...wheel(26, 46, 8), ...wheel(112, 46, 8));
  return figure(prims);
}

export function train(rng: Rng): Figure {
  const n = rng.int(2, 3);
  const c = anyPaint(rng);
  const prims: Prim[] = [];
  for (let k = 0; k < n; k++) {
    const x = k * 74;
    const body = k === n - 1 ? shade(c, 0.8) : c;
    prims.push(R(x + 2, -4, 66, 5, shade(c, 0.5), 2), R(x, 0, 70, 40, body, 4), R(x, 30, 70, 3, '#f5f5f5'));
    for (let i = 0; i < 4; i++) prims.push(R(x + 6 + i * 16, 8, 11, 12, GLASS, 2));
    prims.push(C(x + 14, 44, 5, DARK), C(x + 56, 44, 5, DARK));
    if (k > 0) prims.push(L('#444444', 3, x - 4, 26, x, 26));
  }
  const nose = (n - 1) * 74 + 70;
  prims.push(P(shade(c, 0.8), nose, 0, nose + 14, 18, nose + 14, 40, nose, 40));
  return figure(prims);
}

export function bicycle(rng: Rng): Figure {
  const c = anyPaint(rng);
  const t = rng.uniform(2.5, 3.5);
  return figure([
    O(20, 40, 16, t, DARK),
    O(84, 40, 16, t, DARK),
    L(c, 3, 20, 40, 44, 40, 70, 14, 36, 14, 20, 40),
    L(c, 3, 44, 40, 34, 8),
    L(DARK, 4, 27, 6, 39, 6),
    L(c, 3, 70, 14, 84, 40),
    L(c, 3, 70, 14, 70, 6),
    L(DARK, 3, 64, 6, 76, 6),
  ]);
}

export function motorcycle(rng: Rng): Figure {
  const c = anyPaint(rng);
  return figure([
    ...wheel(18, 40, 14),
    ...wheel(86, 40, 14),
    L('#888888', 4, 78, 28, 86, 40),
    L('#888888', 3, 34, 38, 8, 36),
    P(c, 30, 30, 44, 16, 70, 16, 80, 28, 62, 38, 36, 38),
    E(56, 22, 12, 7, shade(c, 1.2)),
    R(34, 11, 26, 6, DARK, 3),
    L(DARK, 3, 74, 18, 78, 6, 88, 6),
  ]);
}

export function boat(rng: Rng): Figure {
  const hull = anyPaint(rng);
  const prims: Prim[] = [P(hull, 0, 30, 100, 30, 86, 48, 12, 48), R(8, 33, 84, 3, '#f0f0f0')];
  if (rng.bool(0.6)) {
    const sail = rng.bool(0.7) ? '#f7f7f2' : anyPaint(rng);
    prims.push(L('#6b4a2b', 2.5, 50, 30, 50, -34), P(sail, 53, -32, 53, 26, 90, 26), P(sail, 47, -24, 47, 26, 18, 26));
  } else {
    prims.push(
      R(28, 14, 40, 16, '#f2f2f2', 3),
      R(33, 18, 8, 7, GLASS, 1),
      R(45, 18, 8, 7, GLASS, 1),
      R(57, 18, 8, 7, GLASS, 1),
    );
  }
  return figure(prims);
}
