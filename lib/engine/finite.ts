/**
 * Finite-value checks: NaN or ±Infinity in weights, predictions, losses or gradients means a corrupt file
 * or a diverged run. Training checks before the optimizer applies anything and before a checkpoint is
 * written, so nothing non-finite reaches the model or the disk.
 */

/** Thrown where a computation meets non-finite values (matching on NaN predictions, a NaN gradient norm). */
export class NonFiniteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NonFiniteError';
  }
}

export const isNonFiniteError = (e: unknown): e is NonFiniteError => e instanceof Error && e.name === 'NonFiniteError';

/** Index of the first NaN/±Infinity in `values`, or −1. */
export function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x - x !== 0) return i; // NaN − NaN and ∞ − ∞ are NaN; a finite x gives 0
  }
  return -1;
}

/** The first named array holding a non-finite value, with its index; undefined when all are finite. */
export function firstNonFiniteIn(
  named: Iterable<[string, ArrayLike<number>]>,
): { name: string; index: number; value: number } | undefined {
  for (const [name, v] of named) {
    const i = firstNonFinite(v);
    if (i >= 0) return { name, index: i, value: v[i] };
  }
  return undefined;
}
