/**
 * `--tb-images N`: the first N val images as TensorBoard image summaries at each evaluation, tag
 * `val_images/<image_id>` (one tag per image, so TensorBoard's step slider shows how its predictions
 * change). Each image is two panels side by side: ground truth (every kept annotation, class colour) and
 * predictions (score ≥ 0.5, or the 3 best when fewer pass, labelled with class and score).
 */
import sharp from 'sharp';
import { DetectionRecord } from '../data/dataset.js';
import { CocoResult } from '../coco/types.js';
import { LabelMap } from '../coco/subset_types.js';
import { drawBoxes, sideBySide, classColor, OverlayBox } from '../viz/overlay.js';
import { SummaryWriter } from './tensorboard/writer.js';

export const TB_IMAGE_TAG = 'val_images/';
const SCORE_THR = 0.5,
  MIN_SHOWN = 3;

/** Predictions drawn for one image: score ≥ 0.5, at least the 3 best, best first. */
export function shownPredictions(results: CocoResult[]): CocoResult[] {
  const sorted = [...results].sort((a, b) => b.score - a.score);
  const pass = sorted.filter((r) => r.score >= SCORE_THR);
  return pass.length >= MIN_SHOWN ? pass : sorted.slice(0, MIN_SHOWN);
}

/** The two-panel PNG (ground truth | predictions) for one val image. */
export async function gtPredPanel(rec: DetectionRecord, results: CocoResult[], labels: LabelMap): Promise<Buffer> {
  const gt: OverlayBox[] = rec.boxesXyxy.map(([x0, y0, x1, y1], i) => ({
    bboxXywh: [x0, y0, x1 - x0, y1 - y0],
    color: classColor(rec.labels[i]),
    text: labels.classes[rec.labels[i]],
  }));
  const pred: OverlayBox[] = shownPredictions(results).map((r) => {
    const label = labels.categoryIds.indexOf(r.category_id);
    return {
      bboxXywh: r.bbox,
      color: classColor(label),
      text: `${labels.classes[label] ?? r.category_id} ${r.score.toFixed(2)}`,
    };
  });
  const o = { maxSide: 320 };
  return sideBySide([
    await drawBoxes(rec.file, gt, { ...o, title: `ground truth (image ${rec.imageId})` }),
    await drawBoxes(rec.file, pred, { ...o, title: 'predictions (score ≥ 0.5, at least the 3 best)' }),
  ]);
}

/** Writes the panels of the first `n` records as image summaries at `step`. */
export async function logValImages(
  tb: SummaryWriter,
  records: DetectionRecord[],
  results: CocoResult[],
  labels: LabelMap,
  n: number,
  step: number,
): Promise<number> {
  const chosen = records.slice(0, n);
  let written = 0;
  for (const rec of chosen) {
    let png: Buffer;
    try {
      png = await gtPredPanel(
        rec,
        results.filter((r) => r.image_id === rec.imageId),
        labels,
      );
    } catch {
      continue; // an unreadable image: the loader has already reported it
    }
    const meta = await sharp(png).metadata();
    tb.image(`${TB_IMAGE_TAG}${rec.imageId}`, png, step, {
      width: meta.width!,
      height: meta.height!,
      channels: meta.channels === 4 ? 4 : 3,
    });
    written++;
  }
  return written;
}
