/**
 * The seed's evaluation tables from a COCOeval report: mAP / mAP50 / AP75; AP by object size; AR by
 * maxDets; AR by size; per-class AP. Plain rows (for `show()`) and one markdown page (`metrics/tables.md`).
 * pycocotools' −1 ("no ground truth in this range") is shown as "n/a", never averaged in. Also the
 * per-class AP bars and the precision–recall curves of notebook 04.
 */
import { markdownTable, Row } from '../viz/table.js';
import type { VlSpec } from '../viz/vega_render.js';
import type { CocoEvalResult } from '../cocoeval/coco_eval.js';
import type { CocoEvalReport } from '../cocoeval/eval_report.js';
import type { StatName } from '../cocoeval/summarize.js';

export interface EvalTables {
  headline: Row[];
  apBySize: Row[];
  arByMaxDets: Row[];
  arBySize: Row[];
  perClass: Row[];
}

/** A stat for display: 3 decimals as a number, or 'n/a' for pycocotools' −1. */
export const statCell = (x: number): number | string => (x < 0 ? 'n/a' : Math.round(x * 1000) / 1000);

const row = (s: Record<StatName, number>, cols: Array<[string, StatName]>): Row[] => [
  Object.fromEntries(cols.map(([label, k]) => [label, statCell(s[k])])),
];

export function evalTables(r: Pick<CocoEvalReport, 'statsByName' | 'perCategory'>): EvalTables {
  const s = r.statsByName;
  return {
    headline: row(s, [
      ['mAP@[.5:.95]', 'map'],
      ['mAP50', 'map_50'],
      ['AP75', 'map_75'],
    ]),
    apBySize: row(s, [
      ['AP small', 'map_small'],
      ['AP medium', 'map_medium'],
      ['AP large', 'map_large'],
    ]),
    arByMaxDets: row(s, [
      ['AR@1', 'mar_1'],
      ['AR@10', 'mar_10'],
      ['AR@100', 'mar_100'],
    ]),
    arBySize: row(s, [
      ['AR small', 'mar_small'],
      ['AR medium', 'mar_medium'],
      ['AR large', 'mar_large'],
    ]),
    perClass: Object.values(r.perCategory).map((c) => ({
      class: c.name,
      category_id: c.categoryId,
      AP: statCell(c.ap),
      AP50: statCell(c.ap50),
      AP75: statCell(c.ap75),
      'AR@100': statCell(c.ar100),
      gt: c.numGt - c.numCrowd,
      crowd: c.numCrowd,
      dets: c.numDets,
    })),
  };
}

export const TABLE_TITLES: Record<keyof EvalTables, string> = {
  headline: 'COCO mAP',
  apBySize: 'AP by object size',
  arByMaxDets: 'AR by detections per image',
  arBySize: 'AR by object size (maxDets 100)',
  perClass: 'Per-class AP',
};

/** `metrics/tables.md`: a heading, what was evaluated, the five tables, pycocotools' printout. */
export function evalTablesMarkdown(r: CocoEvalReport, context: { title: string; lines: string[] }): string {
  const t = evalTables(r);
  const sections = (Object.keys(TABLE_TITLES) as Array<keyof EvalTables>).map(
    (k) => `## ${TABLE_TITLES[k]}\n\n${markdownTable(t[k])}\n`,
  );
  const note =
    'AP is averaged over IoU .50:.05:.95 and 101 recall points (pycocotools); "n/a": no ground truth of that kind (pycocotools −1). ' +
    'gt counts non-crowd objects; dets are the detections kept after the per-image cut of 100.';
  return [
    `# ${context.title}`,
    '',
    ...context.lines.map((l) => `- ${l}`),
    '',
    note,
    '',
    ...sections,
    '## pycocotools summary',
    '',
    '```',
    ...r.summary,
    '```',
    '',
  ].join('\n');
}

/** Bars of AP and AP50 per class (classes without GT left out). */
export function perClassApChart(r: Pick<CocoEvalReport, 'perCategory'>): VlSpec {
  const values = Object.values(r.perCategory)
    .filter((c) => c.ap >= 0)
    .flatMap((c) => [
      { class: c.name, metric: 'AP@[.5:.95]', value: c.ap },
      { class: c.name, metric: 'AP50', value: c.ap50 },
    ]);
  return {
    title: 'Per-class AP',
    width: 360,
    height: { step: 12 },
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'class', type: 'nominal', title: null, sort: { op: 'max', field: 'value', order: 'descending' } },
      yOffset: { field: 'metric' },
      x: { field: 'value', type: 'quantitative', title: 'AP', scale: { domain: [0, 1] } },
      color: { field: 'metric', type: 'nominal', title: null },
      tooltip: [{ field: 'class' }, { field: 'metric' }, { field: 'value', format: '.3f' }],
    },
  };
}

/**
 * Precision–recall curves (pycocotools' interpolated precision at the 101 recall thresholds), averaged
 * over the classes that have GT, area all, maxDets 100, at IoU .50, .75 and averaged over .50:.95.
 */
export function prCurveChart(e: Pick<CocoEvalResult, 'arrays' | 'params'>): VlSpec {
  const { arrays: a, params: p } = e;
  const m = p.maxDets.indexOf(100) >= 0 ? p.maxDets.indexOf(100) : a.M - 1,
    area = 0;
  const at = (t: number, r: number, k: number) => a.precision[(((t * a.R + r) * a.K + k) * a.A + area) * a.M + m];
  const mean = (ts: number[], r: number) => {
    const xs = ts.flatMap((t) => Array.from({ length: a.K }, (_, k) => at(t, r, k))).filter((x) => x > -1);
    return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
  };
  const curves: Array<[string, number[]]> = [
    ['IoU .50:.95', p.iouThrs.map((_, t) => t)],
    ['IoU .50', [p.iouThrs.indexOf(0.5)]],
    ['IoU .75', [p.iouThrs.indexOf(0.75)]],
  ];
  const values = curves
    .filter(([, ts]) => ts.every((t) => t >= 0))
    .flatMap(([iou, ts]) =>
      p.recThrs.map((recall, r) => ({ iou, recall, precision: mean(ts, r) })).filter((v) => v.precision !== null),
    );
  return {
    title: 'Precision–recall (mean over classes, all areas, 100 dets)',
    width: 360,
    height: 240,
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'recall', type: 'quantitative', scale: { domain: [0, 1] } },
      y: { field: 'precision', type: 'quantitative', scale: { domain: [0, 1] } },
      color: { field: 'iou', type: 'nominal', title: null },
    },
  };
}
