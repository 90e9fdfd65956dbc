/**
 * What `detrlab parity detr` and `detrlab parity assignment` compute (docs/contracts.md), so anyone
 * can check this implementation against PyTorch DETR / scipy on the same weights and inputs.
 *
 * parity detr, eval mode (no dropout):
 *   IN   pixel_values [B,3,H,W] f32 (normalised), pixel_mask [B,H,W] (U8, I64 or F32; 1 = real)
 *   OUT  logits [B,Q,K+1], pred_boxes [B,Q,4], aux_logits [L-1,B,Q,K+1], aux_pred_boxes [L-1,B,Q,4];
 *        with targets also loss_ce, loss_bbox, loss_giou, loss_ce_<i>…, loss_total (scalars),
 *        match_<b>_pred / match_<b>_tgt (I64) and grad.<name> (PyTorch layout) for each requested name.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DetrModel } from './model.js';
import { DetrOutput } from './detr_forward.js';
import { setCriterion, SetLoss } from './criterion.js';
import { DetrTarget, validateTargets } from './matcher.js';
import { toHf } from './param_store.js';
import { variableGradsAsync } from '../engine/async_grads.js';
import { linearSumAssignment } from './hungarian.js';
import { SafeTensorsFile, TensorToWrite, toFloat32 } from '../io/safetensors.js';
import { Box } from '../box/box_ops.js';
import { UserError } from '../params/user_error.js';

export type ParityTensors = Map<string, TensorToWrite>;

/** Reads `pixel_values` (→ NHWC) and `pixel_mask` from a parity inputs file. */
export function parityInputs(f: SafeTensorsFile, where: string): { pixels: tf.Tensor4D; mask: tf.Tensor3D } {
  const pv = f.tensors.get('pixel_values'),
    pm = f.tensors.get('pixel_mask');
  if (!pv || !pm)
    throw new UserError(
      `${where}: needs tensors 'pixel_values' [B,3,H,W] and 'pixel_mask' [B,H,W]; found ${[...f.tensors.keys()].join(', ') || 'none'}`,
    );
  const [b, c, h, w] = pv.shape;
  if (pv.shape.length !== 4 || c !== 3)
    throw new UserError(`${where}: pixel_values has shape [${pv.shape}], expected [B,3,H,W]`);
  if (pm.shape.join() !== [b, h, w].join())
    throw new UserError(`${where}: pixel_mask has shape [${pm.shape}], expected [${[b, h, w]}]`);
  return tf.tidy(() => ({
    pixels: tf.transpose(tf.tensor4d(toFloat32(pv), [b, 3, h, w]), [0, 2, 3, 1]) as tf.Tensor4D, // [B, H, W, 3]
    mask: tf.tensor3d(toFloat32(pm), [b, h, w]), // [B, H, W]
  }));
}

/** Parses the targets JSON (a list per image of {class_labels, boxes}); UserError on anything else. */
export function parseParityTargets(json: unknown, where: string): DetrTarget[] {
  if (!Array.isArray(json))
    throw new UserError(`${where}: expected a JSON list with one {class_labels, boxes} object per image`);
  return json.map((t, i) => {
    const o = t as { class_labels?: unknown; boxes?: unknown };
    if (!o || !Array.isArray(o.class_labels) || !Array.isArray(o.boxes))
      throw new UserError(`${where}[${i}]: needs 'class_labels' and 'boxes' lists`);
    return { labels: o.class_labels as number[], boxesCxcywh: o.boxes as Box[] };
  });
}

const f32 = async (t: tf.Tensor): Promise<TensorToWrite> => ({
  dtype: 'F32',
  shape: t.shape,
  data: (await t.data()) as Float32Array,
});
const i64 = (xs: number[]): TensorToWrite => ({ dtype: 'I64', shape: [xs.length], data: xs });

async function outputTensors(out: DetrOutput, into: ParityTensors): Promise<void> {
  into.set('logits', await f32(out.logits));
  into.set('pred_boxes', await f32(out.predBoxes));
  into.set('aux_logits', await f32(out.auxLogits));
  into.set('aux_pred_boxes', await f32(out.auxPredBoxes));
}

async function lossTensors(loss: SetLoss, into: ParityTensors): Promise<void> {
  for (const [k, v] of Object.entries(loss.terms)) into.set(k, await f32(v));
  into.set('loss_total', await f32(loss.total));
  loss.matches.forEach((m, b) => {
    into.set(`match_${b}_pred`, i64(m.pred));
    into.set(`match_${b}_tgt`, i64(m.tgt));
  });
}

/** Variables for `grad.<name>`; UserError for unknown or frozen tensors. */
function gradVariables(model: DetrModel, names: string[]): tf.Variable[] {
  return names.map((n) => {
    const spec = model.params.specs.get(n);
    if (!spec)
      throw new UserError(
        `--grads: '${n}' is not a tensor of this model (HF names, e.g. class_labels_classifier.weight)`,
      );
    if (!spec.trainable)
      throw new UserError(
        `--grads: '${n}' is frozen (a batch-norm buffer or a frozen backbone layer) and has no gradient`,
      );
    return model.params.get(n);
  });
}

/** Forward in eval mode, and with targets the losses, matches and requested gradients. */
export async function runParityDetr(
  model: DetrModel,
  pixels: tf.Tensor4D,
  mask: tf.Tensor3D,
  targets?: DetrTarget[],
  grads: string[] = [],
): Promise<ParityTensors> {
  const out: ParityTensors = new Map();
  const cfg = { ...model.cfg, auxLoss: true };
  if (targets) validateTargets(targets, pixels.shape[0], cfg.numClasses, '--targets');
  if (grads.length && !targets) throw new UserError('--grads needs --targets (gradients are of loss_total)');
  const vars = gradVariables(model, grads);
  const step = async (): Promise<tf.Scalar> => {
    const o = model.forward(pixels, mask, false);
    await outputTensors(o, out);
    if (!targets) return tf.scalar(0);
    const loss = await setCriterion(o, targets, cfg);
    await lossTensors(loss, out);
    return loss.total;
  };
  if (!vars.length) {
    tf.engine().startScope();
    try {
      await step();
    } finally {
      tf.engine().endScope();
    }
    return out;
  }
  const { value, grads: g } = await variableGradsAsync(step, vars);
  for (const [i, n] of grads.entries()) {
    const spec = model.params.specs.get(n)!;
    const hf = tf.tidy(() => toHf(g[vars[i].name], spec.layout));
    out.set(`grad.${n}`, await f32(hf));
    hf.dispose();
  }
  tf.dispose([value, g]);
  return out;
}

export type AssignmentCase = { cost: Array<Array<number | string>> };
export type AssignmentResult = { rows: number[]; cols: number[]; total: number } | { error: string };

const ENTRY: Record<string, number> = {
  inf: Infinity,
  '+inf': Infinity,
  infinity: Infinity,
  '-inf': -Infinity,
  '-infinity': -Infinity,
  nan: NaN,
};

/** parity assignment: each case solved as scipy's linear_sum_assignment would, or its refusal. */
export function runParityAssignment(cases: unknown, where: string): AssignmentResult[] {
  if (!Array.isArray(cases)) throw new UserError(`${where}: expected a JSON list of {cost: number[][]}`);
  return cases.map((c, i) => {
    const cost = (c as AssignmentCase)?.cost;
    if (!Array.isArray(cost) || !cost.every(Array.isArray))
      throw new UserError(`${where}[${i}]: 'cost' must be a list of rows`);
    const m = cost.map((row, r) =>
      row.map((x, j) => {
        if (typeof x === 'number') return x;
        const v = typeof x === 'string' ? ENTRY[x.toLowerCase()] : undefined;
        if (v === undefined)
          throw new UserError(
            `${where}[${i}].cost[${r}][${j}]: ${JSON.stringify(x)} is not a number, "inf", "-inf" or "nan"`,
          );
        return v;
      }),
    );
    try {
      return linearSumAssignment(m);
    } catch (e) {
      if ((e as Error).name === 'AssignmentError') return { error: (e as Error).message };
      throw e;
    }
  });
}
