/** Shared fixtures for DETR tests: small configs, a transformer-only parameter store, a padded batch, a finite-difference check. */
import * as tf from '@tensorflow/tfjs-core';
import { resolveDetr, DetrConfig } from '../../lib/detr/config.js';
import { ParamStore } from '../../lib/detr/param_store.js';
import { transformerSpecs } from '../../lib/detr/specs.js';
import { Rng } from '../../lib/engine/rng.js';
import type { DetrTarget } from '../../lib/detr/matcher.js';
import { variableGradsAsync } from '../../lib/engine/async_grads.js';

/** d_model 16, 2 heads, 2+3 layers, FFN 32, 5 queries, 3 classes. */
export const TINY: DetrConfig = resolveDetr(
  { numClasses: 3, dModel: 16, nHeads: 2, encoderLayers: 2, decoderLayers: 3, ffnDim: 32, numQueries: 5 },
  'demo',
);
export const FEATURE_CHANNELS = 8;

/** A transformer-only store (no backbone) with random init. */
export const tinyStore = (cfg: DetrConfig = TINY, seed = 0, channels = FEATURE_CHANNELS): ParamStore =>
  new ParamStore(transformerSpecs(cfg, channels)).initAll(new Rng(seed));

/** Stand-in backbone output [B, h, w, C] and a feature mask [B, h, w] whose image `b` keeps `valid[b]` = [rows, cols]. */
export function standInFeatures(
  b: number,
  h: number,
  w: number,
  valid: [number, number][],
  seed = 1,
  channels = FEATURE_CHANNELS,
): { features: tf.Tensor4D; mask: tf.Tensor3D } {
  const rng = new Rng(seed);
  const features = tf.tensor4d(rng.normals(b * h * w * channels), [b, h, w, channels]);
  const m = new Float32Array(b * h * w);
  for (let i = 0; i < b; i++)
    for (let y = 0; y < valid[i][0]; y++) for (let x = 0; x < valid[i][1]; x++) m[(i * h + y) * w + x] = 1;
  return { features, mask: tf.tensor3d(m, [b, h, w]) };
}

export const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** The small full DETR (ResNet-18 at width 8, 3 stages, every layer trainable) of the gradient checks. */
export const GRADCHECK_CFG: DetrConfig = resolveDetr(
  {
    numClasses: 5,
    dModel: 32,
    nHeads: 4,
    encoderLayers: 1,
    decoderLayers: 2,
    ffnDim: 64,
    numQueries: 6,
    dropout: 0,
    backbone: { depth: 18, width: 8, numStages: 3, trainableFrom: 'all' },
  },
  'demo',
);

/** Two 64×96 images; the second keeps 70 of 96 columns (mask 0 beyond; pixels zeroed there too if `zeroPad`). */
export function paddedPair(
  seed: number,
  zeroPad: boolean,
): { pixels: tf.Tensor4D; mask: tf.Tensor3D; targets: DetrTarget[] } {
  const [h, w] = [64, 96];
  const pix = new Rng(seed).normals(2 * h * w * 3);
  const m = new Float32Array(2 * h * w).fill(1);
  for (let y = 0; y < h; y++) {
    for (let x = 70; x < w; x++) {
      m[h * w + y * w + x] = 0;
      if (zeroPad) for (let c = 0; c < 3; c++) pix[((h + y) * w + x) * 3 + c] = 0;
    }
  }
  const targets: DetrTarget[] = [
    {
      labels: [0, 2],
      boxesCxcywh: [
        [0.3, 0.3, 0.2, 0.2],
        [0.7, 0.6, 0.3, 0.4],
      ],
    },
    { labels: [1], boxesCxcywh: [[0.5, 0.5, 0.4, 0.3]] },
  ];
  return { pixels: tf.tensor4d(pix, [2, h, w, 3]), mask: tf.tensor3d(m, [2, h, w]), targets };
}

/**
 * Autodiff gradients of `loss` w.r.t. `vars` against central finite differences (±eps) at the entries `pick`
 * chooses from each gradient (default: its 4 largest |g|). Returns the entries outside |fd − g| ≤ atol + rtol·|g|,
 * and the largest |g| per tensor (to assert that a gradient reaches it). Leaves every variable as it found it.
 */
export async function fdCheck(
  loss: () => Promise<tf.Scalar>,
  vars: tf.Variable[],
  o: { eps: number; atol?: number; rtol?: number; pick?: (g: Float32Array, byMagnitude: number[]) => number[] },
): Promise<{ bad: string[]; maxAbsGrad: number[] }> {
  const { atol = 3e-3, rtol = 0.03, pick = (_g, byMag) => byMag.slice(0, 4) } = o;
  const lossValue = async (): Promise<number> => {
    tf.engine().startScope(); // the criterion's intermediates (it awaits: no tidy)
    try {
      return (await (await loss()).data())[0];
    } finally {
      tf.engine().endScope();
    }
  };
  const { value, grads } = await variableGradsAsync(loss, vars);
  const bad: string[] = [],
    maxAbsGrad: number[] = [];
  for (const v of vars) {
    const g = (await grads[v.name].data()) as Float32Array;
    const orig = (await v.data()) as Float32Array;
    const byMagnitude = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]) - Math.abs(g[a]));
    maxAbsGrad.push(Math.abs(g[byMagnitude[0]]));
    for (const k of pick(g, byMagnitude)) {
      const at = async (d: number): Promise<number> => {
        const shifted = Float32Array.from(orig);
        shifted[k] += d;
        tf.tidy(() => v.assign(tf.tensor(shifted, v.shape)));
        return lossValue();
      };
      const fd = ((await at(o.eps)) - (await at(-o.eps))) / (2 * o.eps);
      tf.tidy(() => v.assign(tf.tensor(orig, v.shape)));
      if (!(Math.abs(fd - g[k]) <= atol + rtol * Math.abs(g[k])))
        bad.push(`${v.name}[${k}]: gradient ${g[k]} vs finite difference ${fd}`);
    }
  }
  tf.dispose([value, grads]);
  return { bad, maxAbsGrad };
}
