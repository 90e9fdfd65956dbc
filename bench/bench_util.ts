/**
 * Bench convention (docs/contracts.md "Benchmarks"): print a readable table and write the same figures as flat JSON to
 * runs/bench/<name>.json (units in key names, plus `backend` and the machine's core count).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { writeJsonAtomic } from '../lib/io/atomic.js';
import type { Rng } from '../lib/engine/rng.js';
import type { TrainBatch } from '../lib/train/batch.js';

export type BenchFigures = Record<string, number | string | boolean | null>;

export function writeBench(name: string, figures: BenchFigures): string {
  const out = {
    bench: name,
    cpu_cores: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    date: new Date().toISOString(),
    ...figures,
  };
  const rows = Object.entries(out).map(([k, v]) => [
    k,
    typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v),
  ]);
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n'));
  const file = path.join('runs', 'bench', `${name}.json`);
  writeJsonAtomic(file, out);
  console.log(`\nwrote ${file}`);
  return file;
}

/** Median wall time (ms) of `fn` over `reps` runs after `warmup` runs. */
export async function timeMs(fn: () => unknown | Promise<unknown>, reps = 3, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

export const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** The training benches' optimizer: detrlab train's defaults (AdamW, backbone at a tenth, clipping 0.1). */
export const OPTIM = { lr: 1e-4, lrBackbone: 1e-5, weightDecay: 1e-4, clipMaxNorm: 0.1 };

/** A batch of random images with 1–4 boxes each (matching and loss run as in training). */
export function syntheticBatch(b: number, h: number, w: number, rng: Rng, k: number): TrainBatch {
  const targets = Array.from({ length: b }, () => {
    const n = rng.int(1, 4);
    return {
      labels: Array.from({ length: n }, () => rng.int(0, k - 1)),
      boxesCxcywh: Array.from(
        { length: n },
        () =>
          [rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4)] as [
            number,
            number,
            number,
            number,
          ],
      ),
    };
  });
  return {
    pixels: rng.normals(b * h * w * 3),
    mask: new Uint8Array(b * h * w).fill(1),
    shape: [b, h, w],
    targets,
    imageIds: Array.from({ length: b }, (_, i) => i + 1),
  };
}

/**
 * A trainer with native kernels on or off: worker threads read DETRLAB_NATIVE_KERNELS when they start their
 * engine (they get a copy of process.env at creation); in-process, the switch is `setNativeKernels`.
 */
