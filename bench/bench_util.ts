/**
 * Bench convention (docs/contracts.md "Benchmarks"): print a readable table and write the same figures as flat JSON to
 * runs/bench/<name>.json (units in key names, plus `backend` and the machine's core count).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { writeJsonAtomic } from '../lib/io/atomic.js';

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
