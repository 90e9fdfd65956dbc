/**
 * Backgrounds (outdoor gradient scenes, stripes, tiles, clutter) and occluders (bushes, posts, crates,
 * fences) of the demo dataset. Occluders are not annotated; they hide parts of objects.
 */
import { Rng } from '../../engine/rng.js';
import { figure, Figure, Prim } from './shapes.js';
import { C, L, R, shade, tint } from './paint.js';

const muted = (rng: Rng): string => tint(rng, [0, 360], [0.05, 0.35], [0.35, 0.8]);

function outdoor(rng: Rng, w: number, h: number): string {
  const horizon = rng.uniform(0.3, 0.7) * h;
  const sky = [tint(rng, [190, 220], [0.4, 0.8], [0.6, 0.85]), tint(rng, [180, 230], [0.1, 0.5], [0.85, 0.97])];
  const ground = tint(
    rng,
    rng.pick([
      [80, 130],
      [20, 40],
      [0, 360],
    ]) as [number, number],
    [0.05, 0.45],
    [0.25, 0.55],
  );
  let s =
    `<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${sky[0]}"/><stop offset="1" stop-color="${sky[1]}"/></linearGradient>` +
    `<linearGradient id="gnd" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${shade(ground, 1.15)}"/><stop offset="1" stop-color="${shade(ground, 0.8)}"/></linearGradient></defs>` +
    `<rect width="${w}" height="${h}" fill="url(#sky)"/><rect y="${horizon.toFixed(1)}" width="${w}" height="${(h - horizon).toFixed(1)}" fill="url(#gnd)"/>`;
  if (rng.bool(0.4)) {
    // a road with a dashed centre line
    const y = rng.uniform(horizon + 4, h - 10);
    s += `<rect y="${y.toFixed(1)}" width="${w}" height="14" fill="#55575a"/><line x1="0" y1="${(y + 7).toFixed(1)}" x2="${w}" y2="${(y + 7).toFixed(1)}" stroke="#e8e8e8" stroke-width="1.5" stroke-dasharray="6 5"/>`;
  }
  return s;
}

function pattern(rng: Rng, w: number, h: number): string {
  const a = muted(rng);
  const b = shade(a, rng.uniform(0.7, 0.9));
  const size = rng.int(6, 20);
  const body = rng.bool(0.5)
    ? `<rect width="${size}" height="${size}" fill="${a}"/><rect width="${size / 2}" height="${size}" fill="${b}"/>`
    : `<rect width="${size}" height="${size}" fill="${a}"/><rect width="${size / 2}" height="${size / 2}" fill="${b}"/><rect x="${size / 2}" y="${size / 2}" width="${size / 2}" height="${size / 2}" fill="${b}"/>`;
  return (
    `<defs><pattern id="pat" width="${size}" height="${size}" patternUnits="userSpaceOnUse" patternTransform="rotate(${rng.int(0, 89)})">${body}</pattern></defs>` +
    `<rect width="${w}" height="${h}" fill="url(#pat)"/>`
  );
}

function clutter(rng: Rng, w: number, h: number): string {
  const parts: string[] = [];
  for (let i = rng.int(4, 16); i > 0; i--) {
    const c = muted(rng);
    const x = rng.uniform(0, w),
      y = rng.uniform(0, h);
    parts.push(
      rng.bool(0.5)
        ? `<ellipse cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" rx="${rng.uniform(2, 14).toFixed(1)}" ry="${rng.uniform(2, 10).toFixed(1)}" fill="${c}" opacity="0.6"/>`
        : `<line x1="${x.toFixed(1)}" y1="${y.toFixed(1)}" x2="${(x + rng.uniform(-30, 30)).toFixed(1)}" y2="${(y + rng.uniform(-30, 30)).toFixed(1)}" stroke="${c}" stroke-width="${rng.uniform(1, 4).toFixed(1)}" opacity="0.7"/>`,
    );
  }
  return parts.join('');
}

/** An SVG fragment filling the w×h canvas. */
export function background(rng: Rng, w: number, h: number): string {
  const kind = rng.int(0, 2);
  const base =
    kind === 0
      ? outdoor(rng, w, h)
      : kind === 1
        ? pattern(rng, w, h)
        : `<rect width="${w}" height="${h}" fill="${muted(rng)}"/>`;
  return base + clutter(rng, w, h);
}

/** An unannotated occluder figure: bush, post, crate or fence segment. */
export function occluder(rng: Rng): Figure {
  const kind = rng.int(0, 3);
  if (kind === 0) {
    const g = tint(rng, [85, 140], [0.3, 0.6], [0.2, 0.4]);
    const prims: Prim[] = [];
    for (let i = rng.int(3, 6); i > 0; i--)
      prims.push(C(rng.uniform(0, 30), rng.uniform(0, 12), rng.uniform(6, 11), shade(g, rng.uniform(0.85, 1.2))));
    return figure(prims);
  }
  if (kind === 1)
    return figure([R(0, 0, rng.uniform(4, 8), rng.uniform(40, 70), tint(rng, [20, 40], [0, 0.4], [0.3, 0.55]), 1)]);
  if (kind === 2) {
    const c = tint(rng, [25, 40], [0.4, 0.6], [0.35, 0.5]);
    return figure([R(0, 0, 30, 24, c, 1), L(shade(c, 0.7), 2, 2, 2, 28, 22), L(shade(c, 0.7), 2, 28, 2, 2, 22)]);
  }
  const c = tint(rng, [0, 360], [0, 0.1], [0.6, 0.9]);
  const prims: Prim[] = [R(0, 6, 60, 3, c), R(0, 16, 60, 3, c)];
  for (let x = 0; x <= 54; x += 9) prims.push(R(x, 0, 4, 26, c, 1));
  return figure(prims);
}
