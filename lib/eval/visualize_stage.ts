/**
 * Stage 05 (`detrlab visualize`, notebook 05): a seeded sample of images with ground truth and
 * predictions drawn side by side — two panels per image, GT on the left, predictions with score >
 * scoreThr on the right — each box in its class colour (lib/viz/overlay.ts palette, by label) with the
 * class name (and score); crowd regions dashed. Writes `<run>/viz/<split>_<imageId>.png` and
 * `<run>/viz/contact_sheet.png`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CocoAnnotation, CocoResult } from '../coco/types.js';
import type { LabelMap } from '../coco/subset_types.js';
import type { DetectionRecord } from '../data/dataset.js';
import { decodeRgb, DecodeError } from '../data/decode.js';
import { Rng, seedFrom } from '../engine/rng.js';
import { writeFileAtomic } from '../io/atomic.js';
import { int, num, resolveParams, Schema } from '../params/schema.js';
import { UserError } from '../params/user_error.js';
import { contactSheet } from '../viz/contact_sheet.js';
import { classColor, OverlayBox, overlayPair } from '../viz/overlay.js';
import { progress } from '../viz/progress.js';
import { predictSplit } from './inference.js';
import {
  evalLoader,
  MODEL_INPUT_SCHEMA,
  ModelInputParams,
  openModelInputs,
  withRunDataRoot,
  StageOverrides,
} from './stage_inputs.js';
import { defaultScoreThr } from './diagnostics.js';

export interface VisualizeParams extends ModelInputParams {
  numImages: number;
  scoreThr: number;
  seed: number;
  maxSide: number;
}

export const VISUALIZE_SCHEMA: Schema<VisualizeParams> = {
  ...MODEL_INPUT_SCHEMA,
  numImages: int(30, 'images to draw (a seeded random sample of the split)', { min: 1 }),
  scoreThr: num(-1, "draw predictions with score > this (-1: the F1-optimal threshold of the run's eval, else 0.3)", {
    min: -1,
    max: 1,
  }),
  seed: int(0, 'seed of the image sample'),
  maxSide: int(400, 'longer side of each panel in pixels', { min: 64, max: 4096 }),
};

export interface VisualizedImage {
  imageId: number;
  file: string;
  gt: number;
  predictions: number;
}
export interface VisualizeResult {
  images: VisualizedImage[];
  contactSheet: string;
  sheetPng: Buffer;
  skipped: string[];
  classes: string[];
}

/** Label of each category id, and its name. */
export const labelIndex = (m: LabelMap): Map<number, number> => new Map(m.categoryIds.map((id, i) => [id, i]));

/** GT annotations as overlay boxes (label-map classes only; crowd dashed). */
export function gtOverlayBoxes(anns: CocoAnnotation[], m: LabelMap): OverlayBox[] {
  const idx = labelIndex(m);
  return anns
    .filter((a) => idx.has(a.category_id))
    .map((a) => {
      const l = idx.get(a.category_id)!;
      return {
        bboxXywh: a.bbox,
        color: classColor(l),
        text: a.iscrowd ? `${m.classes[l]} (crowd)` : m.classes[l],
        dashed: Boolean(a.iscrowd),
      };
    });
}

/** Detections as overlay boxes: class colour, "name score". */
export function predictionOverlayBoxes(dets: CocoResult[], m: LabelMap): OverlayBox[] {
  const idx = labelIndex(m);
  return dets
    .filter((d) => idx.has(d.category_id))
    .map((d) => {
      const l = idx.get(d.category_id)!;
      return { bboxXywh: d.bbox, color: classColor(l), text: `${m.classes[l]} ${d.score.toFixed(2)}` };
    });
}

/** `n` records drawn with a seeded permutation, then sorted by image id. */
export function sampleRecords(records: DetectionRecord[], n: number, seed: number): DetectionRecord[] {
  const perm = new Rng(seedFrom('visualize', seed)).permutation(records.length);
  return perm
    .slice(0, n)
    .map((i) => records[i])
    .sort((a, b) => a.imageId - b.imageId);
}

/** Removes the `<split>_<id>.png` files of an earlier sample, so the folder holds only this one. */
function clearOld(dir: string, split: string): void {
  if (!fs.existsSync(dir)) return;
  const re = new RegExp(`^${split.replace(/\W/g, '')}_\\d+\\.png$`);
  for (const f of fs.readdirSync(dir)) if (re.test(f)) fs.rmSync(path.join(dir, f));
}

const groupBy = <T>(xs: T[], key: (x: T) => number): Map<number, T[]> => {
  const m = new Map<number, T[]>();
  for (const x of xs) {
    const k = key(x);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(x);
  }
  return m;
};

export async function runVisualize(overrides: StageOverrides<VisualizeParams> = {}): Promise<VisualizeResult> {
  const given = withRunDataRoot(resolveParams(VISUALIZE_SCHEMA, overrides));
  const p = { ...given, scoreThr: defaultScoreThr(given.run, given.split, given.scoreThr).scoreThr };
  const inputs = await openModelInputs(p);
  const records = sampleRecords(inputs.split.records, p.numImages, p.seed);
  let dets: CocoResult[];
  try {
    const loader = evalLoader({ ...inputs.split, records }, inputs.augment, p.batchSize);
    dets = await predictSplit(inputs.predictor, loader, inputs.split.labelMap, {
      scoreThr: p.scoreThr,
      progress: !p.quiet,
      label: 'visualize',
    });
  } finally {
    await inputs.predictor.dispose();
  }
  const m = inputs.split.labelMap,
    dir = path.join(p.run, 'viz');
  const gtBy = groupBy(inputs.gt.annotations, (a) => a.image_id),
    detBy = groupBy(dets, (d) => d.image_id);
  clearOld(dir, p.split);
  const images: VisualizedImage[] = [],
    skipped: string[] = [];
  const bar = progress({ total: records.length, label: 'draw', unit: 'img', quiet: p.quiet });
  for (const r of records) {
    const gt = gtOverlayBoxes(gtBy.get(r.imageId) ?? [], m),
      pred = predictionOverlayBoxes(detBy.get(r.imageId) ?? [], m);
    try {
      const image = await decodeRgb(r.file, { width: r.width, height: r.height }); // as the loader decodes it
      const png = await overlayPair(
        image,
        { boxes: gt, title: `ground truth · image ${r.imageId} · ${gt.length}` },
        { boxes: pred, title: `predictions > ${p.scoreThr} · ${pred.length}` },
        p.maxSide,
      );
      const file = path.join(dir, `${p.split.replace(/\W/g, '')}_${r.imageId}.png`);
      writeFileAtomic(file, png);
      images.push({ imageId: r.imageId, file, gt: gt.length, predictions: pred.length });
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      skipped.push(e.message);
    }
    bar.tick();
  }
  bar.done();
  if (images.length === 0)
    throw new UserError(`none of the ${records.length} sampled images could be read (${skipped[0] ?? ''})`);
  const sheetPng = await contactSheet(
    images.map((im) => ({ image: im.file, caption: `image ${im.imageId}: ${im.gt} GT, ${im.predictions} predicted` })),
    {
      columns: Math.min(3, images.length),
      cellWidth: Math.min(2 * p.maxSide + 8, 640),
      title: `${path.basename(p.run)} · ${p.split} · ground truth (left) vs predictions > ${p.scoreThr} (right)`,
    },
  );
  const sheet = path.join(dir, 'contact_sheet.png');
  writeFileAtomic(sheet, sheetPng);
  return { images, contactSheet: sheet, sheetPng, skipped, classes: m.classes };
}
