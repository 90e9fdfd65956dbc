/**
 * The optimizer's share of a training step (`npm run bench -- optimizer [--r50]`): one AdamW update with
 * clipping over every trainable tensor of the demo DETR (and, with --r50, of DETR-R50), per-op form vs the
 * one-pass form (lib/engine/wasm_kernels/adamw.ts), on the wasm backend. Prints ms per update and ns per
 * parameter; figures go to runs/bench/optimizer.json. The two forms give the same weights bit for bit
 * (tests/train/optimizer_fused.test.ts), so only time differs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../lib/engine/backend.js';
import { Rng } from '../lib/engine/rng.js';
import { DetrModel } from '../lib/detr/model.js';
import { resolveDetr, DetrPreset } from '../lib/detr/config.js';
import { AdamW, gradNormScale } from '../lib/train/optimizer.js';
import { BenchFigures, OPTIM, timeMs, writeBench } from './bench_util.js';

async function main(): Promise<void> {
  const { backend } = await initEngine({ backend: 'wasm', log: null });
  const presets: DetrPreset[] = process.argv.includes('--r50') ? ['demo', 'detr-resnet-50'] : ['demo'];
  const fig: BenchFigures = { backend };
  for (const preset of presets) {
    const model = DetrModel.create(resolveDetr({ numClasses: 10 }, preset), new Rng(0));
    const p = model.params;
    const rng = new Rng(1);
    const grads = new Map([...p.trainable()].map(([k, v]) => [k, tf.tensor(rng.normals(v.size), v.shape)]));
    const n = [...grads.values()].reduce((a, g) => a + g.size, 0);
    for (const fused of [false, true]) {
      const opt = new AdamW(
        [
          { name: 'backbone', lr: OPTIM.lrBackbone, weightDecay: OPTIM.weightDecay, params: p.trainable('backbone') },
          { name: 'transformer', lr: OPTIM.lr, weightDecay: OPTIM.weightDecay, params: p.trainable('transformer') },
        ],
        { fused },
      );
      const ms = await timeMs(async () => {
        const { coef } = await gradNormScale(grads, OPTIM.clipMaxNorm);
        opt.apply(grads, coef);
      }, 5);
      const key = `${preset}_${fused ? 'fused' : 'per_op'}`;
      fig[`${key}_ms`] = ms;
      fig[`${key}_ns_per_param`] = (ms * 1e6) / n;
      opt.dispose();
    }
    fig[`${preset}_params`] = n;
    fig[`${preset}_tensors`] = grads.size;
    fig[`${preset}_speedup`] = (fig[`${preset}_per_op_ms`] as number) / (fig[`${preset}_fused_ms`] as number);
    tf.dispose([...grads.values()]);
    model.dispose();
  }
  writeBench('optimizer', fig);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
