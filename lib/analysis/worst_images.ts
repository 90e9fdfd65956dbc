/**
 * Overlays of the images with the most errors: ground truth on the left (found objects, missed ones,
 * crowd regions dashed), predictions on the right coloured by their outcome under the matching rule
 * (lib/eval/error_match.ts `matchImage`, the same call `analyzeErrors` makes), so each error is visible.
 */
import * as path from 'node:path';
import type { CocoAnnotation, CocoDataset, CocoResult } from '../coco/types.js';
import type { DetectionRecord } from '../data/dataset.js';
import { ErrorAnalysis, ImageErrors } from './error_analysis.js';
import { matchImage } from '../eval/error_match.js';
import { decodeRgb } from '../data/decode.js';
import { writeFileAtomic } from '../io/atomic.js';
import { OverlayBox, overlayPair } from '../viz/overlay.js';
import { OUTCOME_COLORS } from './analysis_charts.js';

export interface WorstImage extends ImageErrors {
  rank: number;
  overlay: string | null;
}

/** GT and prediction overlay boxes of one image, coloured by outcome. */
export function outcomeBoxes(
  gts: CocoAnnotation[],
  preds: CocoResult[],
  iouThr: number,
  names: Map<number, string>,
): { gt: OverlayBox[]; pred: OverlayBox[] } {
  const m = matchImage(gts, preds, iouThr);
  const missed = new Set(m.missed);
  const gt = gts.map((g, j): OverlayBox => {
    const name = names.get(g.category_id) ?? String(g.category_id);
    if (g.iscrowd) return { bboxXywh: g.bbox, color: OUTCOME_COLORS.crowd, text: `${name} (crowd)`, dashed: true };
    return missed.has(j)
      ? { bboxXywh: g.bbox, color: OUTCOME_COLORS.missed, text: `missed: ${name}` }
      : { bboxXywh: g.bbox, color: OUTCOME_COLORS.tp, text: name };
  });
  const pred = m.predictions.map((r): OverlayBox => {
    const p = preds[r.index],
      name = names.get(p.category_id) ?? String(p.category_id);
    return {
      bboxXywh: p.bbox,
      color: OUTCOME_COLORS[r.outcome],
      text: `${r.outcome === 'tp' ? '' : r.outcome + ': '}${name} ${p.score.toFixed(2)}`,
    };
  });
  return { gt, pred };
}

/** Draws every listed worst image into `dir` (`<rank>_<imageId>.png`); images that cannot be read get overlay null. */
export async function drawWorstImages(
  a: ErrorAnalysis,
  gt: CocoDataset,
  dets: CocoResult[],
  records: DetectionRecord[],
  dir: string,
  maxSide: number,
): Promise<WorstImage[]> {
  const names = new Map(gt.categories.map((c) => [c.id, String(c.name)]));
  const byId = new Map(records.map((r) => [r.imageId, r]));
  const out: WorstImage[] = [];
  for (const [i, im] of a.worstImages.entries()) {
    const gts = gt.annotations.filter((g) => g.image_id === im.imageId && names.has(g.category_id));
    const preds = dets.filter(
      (d) => d.image_id === im.imageId && d.score >= a.options.scoreThr && names.has(d.category_id),
    );
    const { gt: gb, pred: pb } = outcomeBoxes(gts, preds, a.options.iouThr, names);
    const r = byId.get(im.imageId);
    let overlay: string | null = null;
    if (r) {
      try {
        const image = await decodeRgb(r.file, { width: r.width, height: r.height });
        const png = await overlayPair(
          image,
          { boxes: gb, title: `#${i + 1} image ${im.imageId} · GT (${im.counts.missed} missed)` },
          { boxes: pb, title: `predictions ≥ ${a.options.scoreThr} · ${im.errors} errors` },
          maxSide,
        );
        overlay = path.join(dir, `${String(i + 1).padStart(2, '0')}_${im.imageId}.png`);
        writeFileAtomic(overlay, png);
      } catch (e) {
        if (!(e instanceof Error && e.name === 'DecodeError')) throw e;
      }
    }
    out.push({ ...im, rank: i + 1, overlay });
  }
  return out;
}
