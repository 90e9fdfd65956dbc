/**
 * DETR speed and memory: forward (eval) and forward+backward (train mode, set loss with matching) of
 * DETR-R50 at batch 2, 512×512 and 800×1066, and of the demo variant, on the best available backend.
 *
 *   npm run bench -- detr                 everything (R50 parts take minutes on CPU)
 *   npm run bench -- detr --quick         demo variant + R50 forward at 512×512 only
 *   DETRLAB_BACKEND=cpu npm run bench -- detr
 *
 * A case that fails (e.g. past wasm's 4 GB heap) is reported with its error instead of a time; cases
 * run from the smallest to the largest so an out-of-memory ends the list. Peak RSS is the process's
 * high-water mark after each case (for wasm it includes the wasm heap, which never shrinks).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../lib/engine/index.js';
import { Rng } from '../lib/engine/rng.js';
import { DetrModel } from '../lib/detr/model.js';
import { DetrConfig, resolveDetr } from '../lib/detr/config.js';
import { ParamStore } from '../lib/detr/param_store.js';
import { detrSpecs } from '../lib/detr/hf_names.js';
import { setCriterion } from '../lib/detr/criterion.js';
import { variableGradsAsync } from '../lib/engine/async_grads.js';
import { DetrTarget } from '../lib/detr/matcher.js';
import { writeBench, timeMs, peakRssMb, BenchFigures } from './bench_util.js';

interface Case {
  key: string;
  cfg: DetrConfig;
  batch: number;
  h: number;
  w: number;
  train: boolean;
  reps: number;
}

const TARGETS = (b: number): DetrTarget[] =>
  Array.from({ length: b }, (_, i) => ({
    labels: [1, 2, 3].slice(0, 1 + (i % 3)),
    boxesCxcywh: [
      [0.3, 0.3, 0.2, 0.3],
      [0.6, 0.5, 0.4, 0.4],
      [0.5, 0.7, 0.1, 0.1],
    ].slice(0, 1 + (i % 3)) as DetrTarget['boxesCxcywh'],
  }));

function inputs(b: number, h: number, w: number): { pixels: tf.Tensor4D; mask: tf.Tensor3D } {
  const rng = new Rng(1);
  return { pixels: tf.tensor4d(rng.normals(b * h * w * 3), [b, h, w, 3]), mask: tf.ones([b, h, w]) as tf.Tensor3D };
}

/** One timed step: eval forward, or train forward + loss + backward over every trainable tensor. */
async function step(model: DetrModel, c: Case, x: { pixels: tf.Tensor4D; mask: tf.Tensor3D }, rng: Rng): Promise<void> {
  if (!c.train) {
    const logits = tf.tidy(() => model.forward(x.pixels, x.mask).logits);
    await logits.data();
    logits.dispose();
    return;
  }
  const vars = [...model.params.trainable().values()];
  const { value, grads } = await variableGradsAsync(
    async () => (await setCriterion(model.forward(x.pixels, x.mask, true, rng), TARGETS(c.batch), model.cfg)).total,
    vars,
  );
  await value.data();
  tf.dispose([value, grads]);
}

async function runCase(c: Case, figures: BenchFigures): Promise<boolean> {
  const model = DetrModel.create(c.cfg, new Rng(0));
  const x = inputs(c.batch, c.h, c.w);
  const rng = new Rng(2);
  try {
    const ms = await timeMs(() => step(model, c, x, rng), c.reps, 1);
    figures[`${c.key}_ms`] = Math.round(ms);
    figures[`${c.key}_img_per_s`] = (1000 * c.batch) / ms;
    process.stderr.write(`[bench] ${c.key}: ${ms.toFixed(0)} ms\n`);
    return true;
  } catch (e) {
    figures[`${c.key}_error`] = String((e as Error).message ?? e)
      .split('\n')[0]
      .slice(0, 200);
    process.stderr.write(`[bench] ${c.key}: failed: ${figures[`${c.key}_error`]}\n`);
    return false;
  } finally {
    figures[`${c.key}_peak_rss_mb`] = Math.round(peakRssMb());
    tf.dispose([x.pixels, x.mask]);
    model.dispose();
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const engine = await initEngine({});
  const r50 = resolveDetr({ numClasses: 91 });
  const demo = resolveDetr({ numClasses: 20 }, 'demo');
  const cases: Case[] = [
    { key: 'demo_b2_256x256_forward', cfg: demo, batch: 2, h: 256, w: 256, train: false, reps: 5 },
    { key: 'demo_b2_256x256_train', cfg: demo, batch: 2, h: 256, w: 256, train: true, reps: 5 },
    { key: 'r50_b2_512x512_forward', cfg: r50, batch: 2, h: 512, w: 512, train: false, reps: 2 },
    ...(quick
      ? []
      : [
          { key: 'r50_b2_512x512_train', cfg: r50, batch: 2, h: 512, w: 512, train: true, reps: 1 },
          { key: 'r50_b2_800x1066_forward', cfg: r50, batch: 2, h: 800, w: 1066, train: false, reps: 1 },
          { key: 'r50_b2_800x1066_train', cfg: r50, batch: 2, h: 800, w: 1066, train: true, reps: 1 },
        ]),
  ];
  const trainable = (cfg: DetrConfig) => new ParamStore(detrSpecs(cfg)).count(true); // specs only, no tensors
  const figures: BenchFigures = {
    backend: engine.backend,
    backend_reason: engine.reason,
    demo_trainable_params: trainable(demo),
    r50_trainable_params: trainable(r50),
  };
  for (const c of cases)
    if (
      !(await runCase(c, figures)) &&
      engine.backend === 'wasm' &&
      /memory|bounds|OOM|abort/i.test(String(figures[`${c.key}_error`]))
    ) {
      figures.stopped_after = c.key; // a wasm heap that ran out is not reliable afterwards
      break;
    }
  figures.peak_rss_mb = Math.round(peakRssMb());
  writeBench('detr', figures);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
