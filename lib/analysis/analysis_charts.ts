/**
 * Vega-lite specs of an error analysis (pure builders; `show()` or `renderPng` draws them): errors per
 * class and per object size as stacked bars (one colour per error kind, fixed across charts and
 * overlays), and the cls_error confusion matrix as a heatmap with counts.
 */
import { ERROR_KINDS, ErrorAnalysis, ErrorKind, Outcome } from './error_analysis.js';
import type { VlSpec } from '../viz/vega_render.js';
import { confusedClasses } from './analysis_tables.js';

/** One colour per outcome (Tableau 10), shared by the charts and the worst-image overlays. */
export const OUTCOME_COLORS: Record<Outcome, string> = {
  tp: '#59a14f',
  cls_error: '#f28e2b',
  loc_error: '#4e79a7',
  cls_loc_error: '#b07aa1',
  duplicate: '#9c755f',
  false_pos: '#e15759',
  missed: '#edc948',
  crowd: '#bab0ac',
};

const kindColor = {
  scale: { domain: [...ERROR_KINDS], range: ERROR_KINDS.map((k) => OUTCOME_COLORS[k]) },
  legend: { title: 'error' },
};

interface KindRow {
  group: string;
  kind: ErrorKind;
  count: number;
  order: number;
}

const kindRows = (group: string, counts: Record<ErrorKind, number>): KindRow[] =>
  ERROR_KINDS.map((kind, order) => ({ group, kind, count: counts[kind], order })).filter((r) => r.count > 0);

/** Horizontal stacked bars: errors of each kind per class, classes sorted by total errors. */
export function errorsByClassChart(a: ErrorAnalysis): VlSpec {
  return {
    title: `Errors per class (IoU ${a.options.iouThr}, score ≥ ${a.options.scoreThr})`,
    width: 420,
    height: { step: 18 },
    data: { values: a.perClass.flatMap((c) => kindRows(c.name, c.counts)) },
    mark: 'bar',
    encoding: {
      y: { field: 'group', type: 'nominal', title: 'class', sort: '-x' },
      x: { field: 'count', type: 'quantitative', title: 'errors', stack: 'zero' },
      color: { field: 'kind', type: 'nominal', ...kindColor },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [{ field: 'group', title: 'class' }, { field: 'kind' }, { field: 'count' }],
    },
  };
}

/** Vertical stacked bars: errors of each kind per object size. */
export function errorsBySizeChart(a: ErrorAnalysis): VlSpec {
  const sizes = ['small', 'medium', 'large'] as const;
  return {
    title: 'Errors per object size',
    width: 240,
    height: 240,
    data: { values: sizes.flatMap((s) => kindRows(s, a.perSize[s])) },
    mark: 'bar',
    encoding: {
      x: { field: 'group', type: 'ordinal', title: 'size', sort: [...sizes], axis: { labelAngle: 0 } },
      y: { field: 'count', type: 'quantitative', title: 'errors', stack: 'zero' },
      color: { field: 'kind', type: 'nominal', ...kindColor },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [{ field: 'group', title: 'size' }, { field: 'kind' }, { field: 'count' }],
    },
  };
}

/** Heatmap of cls_error counts (rows GT class, columns predicted class), or undefined when there are none. */
export function confusionChart(a: ErrorAnalysis): VlSpec | undefined {
  const idx = confusedClasses(a);
  if (idx.length === 0) return undefined;
  const { names, counts } = a.confusion;
  const order = idx.map((i) => names[i]);
  const values = idx.flatMap((i) => idx.map((j) => ({ gt: names[i], predicted: names[j], count: counts[i][j] })));
  const cell = Math.max(18, Math.min(40, Math.floor(480 / idx.length)));
  return {
    title: 'Class confusion (cls_error): GT class → predicted class',
    width: { step: cell },
    height: { step: cell },
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: order, title: 'predicted class', axis: { labelAngle: -40 } },
      y: { field: 'gt', type: 'nominal', sort: order, title: 'GT class' },
    },
    layer: [
      {
        mark: 'rect',
        encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'oranges' }, title: 'cls_error' } },
      },
      {
        mark: { type: 'text', fontSize: 11 },
        transform: [{ joinaggregate: [{ op: 'max', field: 'count', as: 'maxCount' }] }, { filter: 'datum.count > 0' }],
        encoding: {
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.count > datum.maxCount / 2', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}
