/**
 * Quality of a synth folder (quality_metrics.ts applied to it), written to `<synth>/synth_quality.json` (the ablation: `<output>/synth_quality.json`):
 *   edge fidelity    per image, IoU of cv2.Canny-style edges of the synthetic image (same thresholds as its
 *                    control map, from synth_config.json) with the control map; mean per class.
 *   recognisability  a crop classifier trained on real crops only (a `model.safetensors` that
 *                    `detrlab train-classifier --save-weights` or the ablation's real run writes) applied to the
 *                    synthetic images: fraction predicted as the prompted class, per class.
 *   distance         per class, KID between that classifier's pooled backbone features of the synthetic images
 *                    and of the class's real train crops (at most `maxReal`). The feature extractor is the demo
 *                    crop classifier, not Inception-v3: the figures are comparable only with each other, not
 *                    with published FID/KID values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../engine/backend.js';
import { Rng } from '../engine/rng.js';
import { decodeRgb } from '../data/decode.js';
import { readJson, writeJsonAtomic } from '../io/atomic.js';
import { readSafetensors } from '../io/safetensors.js';
import { loadCheckpoint } from '../detr/weights.js';
import { BackboneConfig } from '../detr/backbone.js';
import { CropClassifier } from '../classify/classifier_model.js';
import { normaliseInto, valPixels } from '../classify/crop_augment.js';
import { readCropsData } from '../classify/crop_samples.js';
import { UserError } from '../params/user_error.js';
import { canny, CannyOptions } from './canny.js';
import { resolveSynthParams } from './synth_params.js';
import { edgeIoU, kid, recognisability, Recognisability } from './quality_metrics.js';
import { readSynthMetadata } from './synth_metadata.js';

export interface SynthQuality {
  images: number;
  edgeIoU: { mean: number; perClass: Record<string, number> };
  recognisability?: Recognisability;
  kid?: { perClass: Record<string, number>; features: string; note: string };
  classifier?: string;
}

/** A classifier saved by train_run (metadata: backbone config, num_classes), every tensor loaded. */
export function loadSavedClassifier(file: string): CropClassifier {
  const ck = readSafetensors(file);
  const backbone = JSON.parse(ck.metadata.backbone ?? 'null') as BackboneConfig | null;
  if (!backbone || !ck.metadata.num_classes)
    throw new UserError(
      `${file} is not a saved crop classifier (no backbone/num_classes metadata); use train-classifier --save-weights`,
    );
  const model = CropClassifier.create({ backbone, numClasses: Number(ck.metadata.num_classes) }, new Rng(0));
  loadCheckpoint(model.params, ck, { rng: new Rng(0), strict: true });
  return model;
}

async function pixels(files: string[], size: number): Promise<tf.Tensor4D> {
  const out = new Float32Array(files.length * size * size * 3);
  for (let i = 0; i < files.length; i++)
    normaliseInto(valPixels(await decodeRgb(files[i]), size), out, i * size * size * 3);
  return tf.tensor4d(out, [files.length, size, size, 3]);
}

/** Logits argmax and pooled features of images, in batches. */
async function classify(
  model: CropClassifier,
  files: string[],
  size: number,
): Promise<{ pred: number[]; feats: Float32Array; dim: number }> {
  const pred: number[] = [],
    feats: Float32Array[] = [];
  let dim = 0;
  for (let s = 0; s < files.length; s += 32) {
    const x = await pixels(files.slice(s, s + 32), size);
    const [f, p] = tf.tidy(() => {
      const feat = model.features(x);
      const w = model.params.get('classifier.weight');
      return [feat, tf.argMax(tf.add(tf.matMul(feat, w), model.params.get('classifier.bias')), 1)];
    });
    dim = f.shape[1] as number;
    feats.push((await f.data()) as Float32Array);
    pred.push(...Array.from((await p.data()) as Int32Array));
    tf.dispose([x, f, p]);
  }
  const all = new Float32Array(feats.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const f of feats) {
    all.set(f, o);
    o += f.length;
  }
  return { pred, feats: all, dim };
}

export const SYNTH_QUALITY_FILE = 'synth_quality.json';

/** Computes the figures and writes them to `out` (default `<synth>/synth_quality.json`). */
export async function synthQuality(o: {
  synth: string;
  crops: string;
  classifier?: string;
  imageSize?: number;
  maxReal?: number;
  out?: string;
}): Promise<SynthQuality> {
  const recs = readSynthMetadata(o.synth);
  if (!recs.length) throw new UserError(`${o.synth}/metadata.jsonl holds no images`);
  const cfgFile = path.join(o.synth, 'synth_config.json');
  const d = resolveSynthParams();
  const cannyOpts = fs.existsSync(cfgFile)
    ? readJson<{ canny: CannyOptions }>(cfgFile).canny
    : { low: d.cannyLow, high: d.cannyHigh, blurSigma: d.blurSigma };
  const ious: Record<string, number[]> = {};
  for (const r of recs) {
    if (!fs.existsSync(path.join(o.synth, r.controlImage))) continue; // a folder without control maps: no edge figure
    const img = await decodeRgb(path.join(o.synth, r.file));
    const ctl = await decodeRgb(path.join(o.synth, r.controlImage));
    const edges = canny({ data: img.data, width: img.width, height: img.height, channels: 3 }, cannyOpts);
    const control = Uint8Array.from({ length: ctl.width * ctl.height }, (_, i) => ctl.data[i * 3]);
    (ious[r.class] ??= []).push(edgeIoU(edges, control));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const q: SynthQuality = {
    images: recs.length,
    edgeIoU: {
      mean: mean(Object.values(ious).flat()),
      perClass: Object.fromEntries(Object.entries(ious).map(([c, v]) => [c, mean(v)])),
    },
  };
  const classes = [...new Set(recs.map((r) => r.class))].sort();
  if (o.classifier) {
    await initEngine({ log: null });
    const crops = readCropsData(o.crops);
    const model = loadSavedClassifier(o.classifier);
    const size = o.imageSize ?? 64;
    try {
      const syn = await classify(
        model,
        recs.map((r) => path.join(o.synth, r.file)),
        size,
      );
      q.recognisability = recognisability(
        recs.map((r) => r.class),
        syn.pred.map((k) => crops.classes[k]),
      );
      const perClass: Record<string, number> = {};
      for (const c of classes) {
        const idx = recs.flatMap((r, i) => (r.class === c ? [i] : []));
        const real = crops.train.filter((s) => s.class === c).slice(0, o.maxReal ?? 200);
        if (idx.length < 2 || real.length < 2) continue;
        const rf = await classify(
          model,
          real.map((s) => s.file),
          size,
        );
        const sf = Float32Array.from(
          idx.flatMap((i) => Array.from(syn.feats.subarray(i * syn.dim, (i + 1) * syn.dim))),
        );
        perClass[c] = kid(sf, idx.length, rf.feats, real.length, syn.dim);
      }
      q.kid = {
        perClass,
        features: `pooled backbone features (${syn.dim}-d) of the real-only crop classifier ${o.classifier}`,
        note: "KID on the demo crop classifier's features, not Inception-v3: not comparable to published FID/KID values",
      };
      q.classifier = o.classifier;
    } finally {
      model.dispose();
    }
  }
  writeJsonAtomic(o.out ?? path.join(o.synth, SYNTH_QUALITY_FILE), q);
  return q;
}

/** synth_quality.json as a markdown table, one row per class. */
export function qualityTable(q: SynthQuality): string {
  const f = (x: number | undefined, d = 3) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
  const rows = [...new Set([...Object.keys(q.edgeIoU.perClass), ...Object.keys(q.recognisability?.perClass ?? {})])]
    .sort()
    .map(
      (c) =>
        `| ${c} | ${q.recognisability?.perClass[c]?.images ?? '—'} | ` +
        `${f(q.recognisability?.perClass[c]?.fraction)} | ${f(q.edgeIoU.perClass[c])} | ${f(q.kid?.perClass[c], 4)} |`,
    );
  return [
    '| class | images | recognised as prompted | edge IoU | KID (classifier features) |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    `| **all** | ${q.images} | ${f(q.recognisability?.overall)} | ${f(q.edgeIoU.mean)} | |`,
  ].join('\n');
}
