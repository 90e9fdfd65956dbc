/**
 * Street-scene figures of the demo dataset: person, traffic light, fire hydrant, stop sign, umbrella, kite.
 */
import { Rng } from '../../engine/rng.js';
import { figure, Figure, Prim } from './shapes.js';
import { anyPaint, C, DARK, E, L, P, R, shade, SKIN, tint } from './paint.js';

export function person(rng: Rng): Figure {
  const skin = rng.pick(SKIN);
  const shirt = anyPaint(rng);
  const pants = tint(rng, [200, 260], [0.1, 0.6], [0.15, 0.45]);
  const pose = rng.int(0, 2); // 0 standing, 1 walking, 2 waving
  const armL = pose === 2 ? [8, 20, 0, 2] : [8, 20, 2, 40];
  const legSpread = pose === 1 ? 7 : 2;
  return figure([
    L(pants, 5.5, 12, 44, 12 - legSpread, 70),
    L(pants, 5.5, 18, 44, 18 + legSpread, 70),
    L(shirt, 4.5, ...armL),
    L(shirt, 4.5, 22, 20, 28, 40),
    C(armL[2], armL[3], 2.6, skin),
    C(28, 40, 2.6, skin),
    R(6, 16, 18, 30, shirt, 4),
    C(15, 9, 7, skin),
    E(15, 4.5, 7, 3.5, tint(rng, [20, 40], [0.2, 0.6], [0.08, 0.35])),
  ]);
}

export function trafficLight(rng: Rng): Figure {
  const housing = rng.bool(0.75) ? '#2b2b2b' : '#d9b300';
  const lit = rng.int(0, 2);
  const lamps = ['#ff2a1a', '#ffc21a', '#2aff5a'].map((c, i) => (i === lit ? c : shade(c, 0.3)));
  const prims: Prim[] = [R(0, 0, 24, 62, housing, 4)];
  lamps.forEach((c, i) => prims.push(C(12, 11 + 20 * i, 7.5, c)));
  if (rng.bool(0.5)) prims.push(R(9, 62, 6, rng.uniform(10, 40), '#777777'));
  return figure(prims);
}

export function fireHydrant(rng: Rng): Figure {
  const c = rng.bool(0.7)
    ? tint(rng, [355, 365], [0.7, 0.9], [0.4, 0.5])
    : tint(rng, [45, 55], [0.8, 0.95], [0.5, 0.6]);
  const dark = shade(c, 0.65);
  return figure([
    R(14, 0, 8, 7, dark, 2),
    E(18, 16, 13, 9, c),
    R(5, 16, 26, 38, c, 3),
    R(3, 22, 30, 4, dark),
    R(-5, 28, 10, 9, dark, 2),
    R(31, 28, 10, 9, dark, 2),
    C(18, 36, 4, dark),
    R(0, 52, 36, 8, dark, 1),
  ]);
}

const octagon = (cx: number, cy: number, r: number): number[] => {
  const pts: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t = Math.PI / 8 + (i * Math.PI) / 4;
    pts.push(cx + r * Math.cos(t), cy + r * Math.sin(t));
  }
  return pts;
};

export function stopSign(rng: Rng): Figure {
  const red = tint(rng, [355, 365], [0.75, 0.9], [0.4, 0.48]);
  const prims: Prim[] = [];
  if (rng.bool(0.6)) prims.push(R(18, 38, 4, rng.uniform(12, 34), '#8a8a8a'));
  prims.push(
    P(red, ...octagon(20, 20, 20)),
    P('#ffffff', ...octagon(20, 20, 17.5)),
    P(red, ...octagon(20, 20, 15.5)),
    R(7, 17, 26, 6, '#ffffff', 1),
  );
  return figure(prims);
}

export function umbrella(rng: Rng): Figure {
  const c = anyPaint(rng);
  const arc: number[] = [];
  const n = 16;
  for (let i = 0; i <= n; i++) {
    const t = Math.PI + (i * Math.PI) / n;
    arc.push(40 + 40 * Math.cos(t), 30 + 28 * Math.sin(t));
  }
  const bottom: number[] = [];
  for (let i = 8; i >= 0; i--) bottom.push(i * 10, i % 2 ? 25 : 30); // scalloped hem, right to left
  const prims: Prim[] = [P(c, ...arc, ...bottom)];
  for (const x of [0, 20, 40, 60, 80]) prims.push(L(shade(c, 0.6), 1.5, 40, 2, x, 30));
  prims.push(L('#4a3a2a', 3, 40, 2, 40, 58, 34, 62, 30, 57));
  return figure(prims);
}

export function kite(rng: Rng): Figure {
  const c = anyPaint(rng);
  const c2 = anyPaint(rng);
  const tail: number[] = [20, 60];
  for (let i = 1; i <= 5; i++) tail.push(20 + (i % 2 ? 6 : -6), 60 + i * 9);
  const prims: Prim[] = [
    P(c, 20, 0, 40, 22, 20, 60, 0, 22),
    P(c2, 20, 0, 40, 22, 20, 22),
    P(c2, 20, 22, 0, 22, 20, 60),
    L(DARK, 1.5, 20, 0, 20, 60),
    L(DARK, 1.5, 0, 22, 40, 22),
    L(DARK, 1.2, ...tail),
  ];
  for (let i = 1; i <= 4; i++) {
    const y = 60 + i * 9;
    const x = tail[2 * i];
    prims.push(P(rng.pick([c, c2]), x - 4, y - 3, x + 4, y + 3, x + 4, y - 3, x - 4, y + 3));
  }
  return figure(prims);
}
