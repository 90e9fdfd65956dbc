/**
 * The order in which a run sees its training samples, epoch by epoch.
 *
 * The ablation's two runs must see the same real samples in the same order. So the real order of an
 * epoch is a permutation drawn from its own stream (seed, epoch) that knows nothing of synthetic data, and
 * synthetic samples are then interleaved at uniformly random positions drawn from a second, independent
 * stream: removing the synthetic samples from the merged sequence gives back exactly the real order.
 * (Batches of the real+synth run therefore hold a mix of both; the real subsequence is unchanged.)
 */
import { Rng, seedFrom } from '../engine/rng.js';

/** Epoch `epoch`'s permutation of n real samples (the same with or without synthetic data). */
export const realOrder = (n: number, seed: number, epoch: number): number[] =>
  new Rng(seedFrom('classify-real-order', seed, epoch)).permutation(n);

/**
 * `real` in its given order with `synth` (shuffled) inserted at random positions: every one of the
 * C(n+m, m) interleavings is equally likely. Draws only from the synthetic stream.
 */
export function interleave<T>(real: readonly T[], synth: readonly T[], seed: number, epoch: number): T[] {
  if (synth.length === 0) return [...real];
  const rng = new Rng(seedFrom('classify-synth-order', seed, epoch));
  const synthOrder = rng.permutation(synth.length).map((i) => synth[i]);
  const isSynth = rng.shuffle([
    ...new Array<boolean>(real.length).fill(false),
    ...new Array<boolean>(synth.length).fill(true),
  ]);
  const out: T[] = [];
  let r = 0,
    s = 0;
  for (const flag of isSynth) out.push(flag ? synthOrder[s++] : real[r++]);
  return out;
}

/** The samples of one epoch, in training order. */
export function epochSamples<T>(real: readonly T[], synth: readonly T[], seed: number, epoch: number): T[] {
  return interleave(
    realOrder(real.length, seed, epoch).map((i) => real[i]),
    synth,
    seed,
    epoch,
  );
}

/** Consecutive batches of `size` (the last one may be smaller). */
export function toBatches<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
