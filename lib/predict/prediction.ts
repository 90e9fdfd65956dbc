/**
 * A detector's raw outputs for one batch, read into typed arrays, and the in-process forward pass that
 * produces them. Shared by evaluation (eval/inference.ts) and training's validation (train/validate.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DetrModel } from '../detr/model.js';
import type { PaddedBatch } from './padded_batch.js';

export interface Prediction {
  logits: Float32Array;
  boxes: Float32Array;
  shape: [number, number, number] /* B, Q, K+1 */;
  /** Earlier decoder layers' outputs [L-1, B, Q, K+1] / [L-1, B, Q, 4] (validation losses with auxLoss). */
  auxLogits?: Float32Array;
  auxBoxes?: Float32Array;
}

/** Anything that turns a batch into raw DETR outputs: a trainer, or what `openPredictor` returns. */
export interface Predictor {
  predict(batch: PaddedBatch): Promise<Prediction>;
}

/** A predictor that owns its model (and worker threads): `dispose()` releases both. */
export interface OwnedPredictor extends Predictor {
  readonly workers: number;
  dispose(): Promise<void>;
}

/** Runs a forward pass in eval mode and reads logits/boxes. */
export async function predictArrays(model: DetrModel, batch: PaddedBatch): Promise<Prediction> {
  const [b, h, w] = batch.shape;
  const outs = tf.tidy(() => {
    const out = model.forward(
      tf.tensor4d(batch.pixels, [b, h, w, 3]),
      tf.tensor3d(batch.mask, [b, h, w], 'int32') as tf.Tensor3D,
      false,
    );
    return [out.logits, out.predBoxes, out.auxLogits, out.auxPredBoxes];
  });
  const [logits, boxes, auxLogits, auxBoxes] = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  const res: Prediction = { logits, boxes, shape: outs[0].shape as [number, number, number], auxLogits, auxBoxes };
  tf.dispose(outs);
  return res;
}

/** Every tensor of the model (tfjs layout) by HF name. */
export async function readParams(model: DetrModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const n of model.params.names()) out.set(n, (await model.params.get(n).data()) as Float32Array);
  return out;
}

/** Shares' [L, b_i, …] arrays (batch on axis 1) joined along the batch: [L, Σb_i, …]. */
function joinLayers(
  parts: Array<{ data?: Float32Array; b: number }>,
  layers: number,
  perImage: number,
): Float32Array | undefined {
  if (parts.some((p) => !p.data)) return undefined;
  const total = parts.reduce((a, p) => a + p.b, 0);
  const out = new Float32Array(layers * total * perImage);
  for (let l = 0; l < layers; l++) {
    let row = 0;
    for (const p of parts) {
      out.set(p.data!.subarray(l * p.b * perImage, (l + 1) * p.b * perImage), (l * total + row) * perImage);
      row += p.b;
    }
  }
  return out;
}

/** Consecutive shares' predictions joined along the batch (`auxLayers` = decoder layers − 1). */
export function joinPredictions(preds: Prediction[], auxLayers: number): Prediction {
  const [, q, k1] = preds[0].shape;
  const b = preds.reduce((a, p) => a + p.shape[0], 0);
  const logits = new Float32Array(b * q * k1),
    boxes = new Float32Array(b * q * 4);
  let row = 0;
  for (const p of preds) {
    logits.set(p.logits, row * q * k1);
    boxes.set(p.boxes, row * q * 4);
    row += p.shape[0];
  }
  const auxLogits = joinLayers(
    preds.map((p) => ({ data: p.auxLogits, b: p.shape[0] })),
    auxLayers,
    q * k1,
  );
  const auxBoxes = joinLayers(
    preds.map((p) => ({ data: p.auxBoxes, b: p.shape[0] })),
    auxLayers,
    q * 4,
  );
  return { logits, boxes, shape: [b, q, k1], auxLogits, auxBoxes };
}
