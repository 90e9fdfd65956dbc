/**
 * Vega-lite specs of the detection diagnostics (data from confidence_curves.ts, confusion_matrix.ts,
 * labels_overview.ts and COCOeval's precision array): what Ultralytics draws after a training, as
 * charts the notebooks and the report show.
 */
import type { VlSpec } from '../viz/vega_render.js';
import type { CocoEvalResult } from '../cocoeval/coco_eval.js';
import type { ConfidenceCurves } from './confidence_curves.js';
import type { ConfusionMatrix } from './confusion_matrix.js';
import type { LabelsOverview } from './labels_overview.js';

/** Counts or row-normalised shares, ground truth down, prediction across, with the values written in. */
export function confusionChart(m: ConfusionMatrix, normalized: boolean): VlSpec {
  const values = m.labels.flatMap((gt, i) =>
    m.labels.map((pred, j) => ({ gt, pred, value: normalized ? m.normalized[i][j] : m.counts[i][j] })),
  );
  const sort = m.labels;
  const size = Math.max(200, 26 * m.labels.length);
  return {
    title: `Confusion matrix${normalized ? ' (row-normalised)' : ' (counts)'} · IoU > ${m.iouThr}, score ≥ ${m.scoreThr.toFixed(2)}`,
    width: size,
    height: size,
    data: { values },
    encoding: {
      x: { field: 'pred', type: 'nominal', sort, title: 'predicted', axis: { labelAngle: -45 } },
      y: { field: 'gt', type: 'nominal', sort, title: 'ground truth' },
    },
    layer: [
      {
        mark: 'rect',
        encoding: {
          color: {
            field: 'value',
            type: 'quantitative',
            scale: { scheme: 'blues' },
            title: normalized ? 'share' : 'count',
          },
        },
      },
      {
        transform: [{ filter: 'datum.value > 0' }],
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          text: { field: 'value', type: 'quantitative', format: normalized ? '.2f' : 'd' },
          color: { value: 'black' },
        },
      },
    ],
  };
}

/** P, R and F1 against the score threshold: thin lines per class, the class mean bold, the F1-optimal threshold marked. */
export function confidenceChart(c: ConfidenceCurves): VlSpec {
  const panel = (key: 'precision' | 'recall' | 'f1', title: string) => {
    const per = c.classes
      .filter((k) => k.numGt > 0)
      .flatMap((k) => c.thresholds.map((t, i) => ({ threshold: t, value: k[key][i], class: k.name })));
    const mean = c.thresholds.map((t, i) => ({ threshold: t, value: c.all[key][i] }));
    return {
      title,
      width: 220,
      height: 180,
      layer: [
        {
          data: { values: per },
          mark: { type: 'line', strokeWidth: 1, opacity: 0.45 },
          encoding: {
            x: { field: 'threshold', type: 'quantitative', title: 'score threshold' },
            y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
            color: { field: 'class', type: 'nominal' },
          },
        },
        {
          data: { values: mean },
          mark: { type: 'line', strokeWidth: 3, color: '#1f3b73' },
          encoding: { x: { field: 'threshold', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' } },
        },
        {
          data: { values: [{ threshold: c.best.threshold }] },
          mark: { type: 'rule', strokeDash: [4, 3], color: '#d62728' },
          encoding: { x: { field: 'threshold', type: 'quantitative' } },
        },
      ],
    };
  };
  const b = c.best;
  return {
    title: `Precision, recall, F1 vs score threshold (IoU ≥ ${c.iouThr}; bold: mean over classes; dashed: best mean F1 ${b.f1.toFixed(3)} at ${b.threshold.toFixed(2)})`,
    hconcat: [panel('precision', 'precision'), panel('recall', 'recall'), panel('f1', 'F1')],
  };
}

/** Per-class precision–recall curves at IoU .50 (pycocotools' interpolated precision, area all, 100 dets). */
export function perClassPrChart(
  e: Pick<CocoEvalResult, 'arrays' | 'params' | 'perCategory'>,
  names: Map<number, string>,
): VlSpec {
  const { arrays: a, params: p } = e;
  const t = p.iouThrs.findIndex((x) => Math.abs(x - 0.5) < 1e-9);
  const m = p.maxDets.indexOf(100) >= 0 ? p.maxDets.indexOf(100) : a.M - 1;
  const values =
    t < 0
      ? []
      : p.catIds.flatMap((catId, k) => {
          const pc = e.perCategory.find((c) => c.categoryId === catId);
          const label = `${names.get(catId) ?? catId} (AP50 ${pc && pc.stats.map_50 >= 0 ? pc.stats.map_50.toFixed(3) : 'n/a'})`;
          return p.recThrs
            .map((recall, r) => ({
              class: label,
              recall,
              precision: a.precision[(((t * a.R + r) * a.K + k) * a.A + 0) * a.M + m],
            }))
            .filter((v) => v.precision > -1);
        });
  return {
    title: 'Precision–recall per class (IoU .50, all areas, 100 dets)',
    width: 380,
    height: 260,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] } },
      y: { field: 'precision', type: 'quantitative', scale: { domain: [0, 1] } },
      color: { field: 'class', type: 'nominal', title: null, legend: { labelLimit: 300 } },
    },
  };
}

/** Instances per class, box sizes, aspect ratios and box centres of a split's ground truth. */
export function labelsOverviewChart(o: LabelsOverview, split: string): VlSpec {
  const hist = (values: Array<{ lo: number; hi: number; count: number }>, title: string, x: string) => ({
    title,
    width: 200,
    height: 150,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'lo', type: 'quantitative', bin: { binned: true }, title: x },
      x2: { field: 'hi' },
      y: { field: 'count', type: 'quantitative', title: 'boxes' },
    },
  });
  return {
    title: `Labels overview · ${split}: ${o.boxes} boxes in ${o.images} images`,
    hconcat: [
      {
        title: 'instances per class',
        width: 200,
        height: { step: 14 },
        data: { values: o.classCounts },
        mark: 'bar',
        encoding: {
          y: { field: 'class', type: 'nominal', sort: '-x', title: null },
          x: { field: 'instances', type: 'quantitative' },
          tooltip: [{ field: 'class' }, { field: 'instances' }, { field: 'images' }],
        },
      },
      hist(o.relativeSize, 'box size', 'sqrt(box area / image area)'),
      hist(o.log2Aspect, 'aspect ratio', 'log2(width / height)'),
      {
        title: 'box centres',
        width: 150,
        height: 150,
        data: { values: o.centres.map((c) => ({ ...c, x: (c.x + 0.5) / 10, y: (c.y + 0.5) / 10 })) },
        mark: 'rect',
        encoding: {
          x: { field: 'x', type: 'ordinal', title: 'x / W', axis: { format: '.2f' } },
          y: { field: 'y', type: 'ordinal', title: 'y / H (down)', axis: { format: '.2f' } },
          color: { field: 'count', type: 'quantitative', scale: { scheme: 'greens' } },
        },
      },
    ],
  };
}
