/**
 * `detrlab parity detr` and `detrlab parity assignment` (docs/contracts.md): run this implementation
 * on inputs prepared elsewhere (e.g. by a PyTorch script) and write the outputs for comparison.
 */
import * as fs from 'node:fs';
import { defineCommand } from '../command.js';
import { str, strList, int, num, oneOf } from '../../params/schema.js';
import { UserError } from '../../params/user_error.js';
import { initEngine, BackendChoice, BACKEND_CHAIN } from '../../engine/index.js';
import { Rng } from '../../engine/rng.js';
import { readSafetensors, writeSafetensors } from '../../io/safetensors.js';
import { writeJsonAtomic } from '../../io/atomic.js';
import { loadDetr } from '../../detr/pretrained.js';
import { fromHfConfig } from '../../detr/hf_config.js';
import {
  parityInputs,
  parseParityTargets,
  runParityDetr,
  runParityAssignment,
  ParityTensors,
} from '../../detr/parity.js';
import { DetrModel } from '../../detr/model.js';
import type { DetrTarget } from '../../detr/matcher.js';
import { InProcessTrainer } from '../../train/trainer.js';
import * as tf from '@tensorflow/tfjs-core';
import { readJsonFile as readJsonFileShared } from '../../io/json_file.js';

const need = (flag: string, v: string) => {
  if (!v) throw new UserError(`--${flag} is required`);
  return v;
};
function readJsonFile(file: string, flag: string): unknown {
  if (!fs.existsSync(file)) throw new UserError(`--${flag} '${file}' does not exist`);
  return readJsonFileShared(file, { what: `--${flag}`, shape: 'any' });
}

export const parityDetrCommand = defineCommand({
  name: 'parity detr',
  summary:
    'run DETR (eval mode) on given weights + inputs and write outputs, losses, matches and gradients for comparison with PyTorch',
  schema: {
    weights: str('', 'checkpoint (HF DetrForObjectDetection names), safetensors'),
    inputs: str('', 'safetensors with pixel_values [B,3,H,W] f32 (normalised) and pixel_mask [B,H,W] (1 = real pixel)'),
    out: str('', 'output safetensors'),
    targets: str('', 'optional JSON: per image {class_labels: [...], boxes: [[cx,cy,w,h], ...]} (normalised)'),
    grads: strList([], 'tensor names whose gradient of loss_total to write as grad.<name> (needs --targets)'),
    config: str('', 'config.json of the checkpoint (default: config.json beside --weights, else inferred from shapes)'),
    nHeads: int(8, 'attention heads when no config.json says (shapes cannot tell)', { min: 1 }),
    backend: oneOf<BackendChoice>(['auto', ...BACKEND_CHAIN], 'auto', 'tfjs backend (auto walks the chain)'),
    steps: int(
      0,
      'then train this many steps on the same batch (dropout 0; AdamW + clipping as detrlab train) and write curve.<loss term> [steps]',
      { min: 0 },
    ),
    lr: num(1e-4, 'with --steps: transformer learning rate', { min: 0 }),
    lrBackbone: num(1e-5, 'with --steps: backbone learning rate', { min: 0 }),
    weightDecay: num(1e-4, 'with --steps: AdamW weight decay', { min: 0 }),
    clipMaxNorm: num(0.1, 'with --steps: gradient clipping max norm (0 = off)', { min: 0 }),
  },
  usage:
    'example: detrlab parity detr --weights model.safetensors --inputs in.safetensors --out out.safetensors --targets t.json --grads class_labels_classifier.weight',
  async run(p) {
    await initEngine({ backend: p.backend });
    const cfg = p.config ? fromHfConfig(readJsonFile(p.config, 'config'), p.config).cfg : undefined;
    const { model } = await loadDetr({ weights: need('weights', p.weights), cfg, nHeads: p.nHeads, rng: new Rng(0) });
    const { pixels, mask } = parityInputs(readSafetensors(need('inputs', p.inputs)), p.inputs);
    const targets = p.targets ? parseParityTargets(readJsonFile(p.targets, 'targets'), p.targets) : undefined;
    try {
      const out = await runParityDetr(model, pixels, mask, targets, p.grads);
      if (p.steps > 0) {
        if (!targets) throw new UserError('--steps needs --targets (the loss to train on)');
        await trainCurve(model, pixels, mask, targets, p, out);
      }
      writeSafetensors(need('out', p.out), out, { format: 'pt', producer: 'detrlab parity detr' });
      console.log(`wrote ${p.out}: ${[...out.keys()].join(', ')}`);
    } finally {
      pixels.dispose();
      mask.dispose();
      model.dispose();
    }
  },
});

/**
 * The first `steps` training steps on one fixed batch, with dropout off, through the trainer detrlab train uses
 * (InProcessTrainer: set loss, backward, global-norm clipping, AdamW with backbone / transformer groups).
 */
async function trainCurve(
  model: DetrModel,
  pixels: tf.Tensor4D,
  mask: tf.Tensor3D,
  targets: DetrTarget[],
  p: { steps: number; lr: number; lrBackbone: number; weightDecay: number; clipMaxNorm: number },
  out: ParityTensors,
): Promise<void> {
  const cfg = { ...model.cfg, dropout: 0, attentionDropout: 0, activationDropout: 0 };
  const trainer = new InProcessTrainer(new DetrModel(cfg, model.params), {
    optim: { lr: p.lr, lrBackbone: p.lrBackbone, weightDecay: p.weightDecay, clipMaxNorm: p.clipMaxNorm },
    seed: 0,
  });
  const [b, h, w] = mask.shape;
  const batch = {
    pixels: (await pixels.data()) as Float32Array,
    mask: Uint8Array.from(await mask.data()),
    shape: [b, h, w] as [number, number, number],
    targets,
    imageIds: targets.map((_, i) => i),
  };
  const curves = new Map<string, number[]>();
  for (let s = 0; s < p.steps; s++) {
    const r = await trainer.step(batch, s, { lr: p.lr, lrBackbone: p.lrBackbone });
    for (const [k, v] of Object.entries({ ...r.terms, grad_norm: r.gradNorm }))
      curves.set(k, [...(curves.get(k) ?? []), v]);
  }
  for (const [k, v] of curves) out.set(`curve.${k}`, { dtype: 'F32', shape: [v.length], data: Float32Array.from(v) });
}

export const parityAssignmentCommand = defineCommand({
  name: 'parity assignment',
  summary: 'solve minimum-cost assignments (scipy linear_sum_assignment semantics) for a list of cost matrices',
  schema: {
    in: str('', 'JSON list of {cost: number[][]} (entries may be "inf", "-inf", "nan")'),
    out: str('', 'output JSON: per case {rows, cols, total} or {error}'),
  },
  async run(p) {
    const results = runParityAssignment(readJsonFile(need('in', p.in), 'in'), p.in);
    writeJsonAtomic(need('out', p.out), results);
    console.log(`wrote ${p.out}: ${results.length} cases, ${results.filter((r) => 'error' in r).length} refused`);
  },
});
