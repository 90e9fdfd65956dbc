/**
 * Tables of an error analysis (lib/eval `analyzeErrors`): counts per class, per object size, the
 * cls_error confusion matrix and the worst images — as plain rows for `show()` and as markdown pages.
 */
import { ERROR_KINDS, errorTotal, ErrorAnalysis, OutcomeCounts } from './error_analysis.js';
import { markdownTable, Row } from '../viz/table.js';

const outcomeColumns = (c: OutcomeCounts): Row => ({
  tp: c.tp,
  ...Object.fromEntries(ERROR_KINDS.map((k) => [k, c[k]])),
  errors: errorTotal(c),
  crowd: c.crowd,
});

/** One row per class (label-map order): GT objects, predictions kept, tp, each error kind, total errors. */
export const errorsByClassRows = (a: ErrorAnalysis): Row[] =>
  a.perClass.map((c) => ({ class: c.name, gt: c.gtObjects, predictions: c.predictions, ...outcomeColumns(c.counts) }));

/** One row per size bucket, then the total. */
export const errorsBySizeRows = (a: ErrorAnalysis): Row[] => [
  ...(['small', 'medium', 'large'] as const).map((size) => ({ size, ...outcomeColumns(a.perSize[size]) })),
  { size: 'all', ...outcomeColumns(a.totals) },
];

/** Indices of the classes that appear in at least one cls_error (as GT or as prediction). */
export function confusedClasses(a: ErrorAnalysis): number[] {
  const m = a.confusion.counts;
  return m.map((_, i) => i).filter((i) => m[i].some((n) => n > 0) || m.some((row) => row[i] > 0));
}

/** The confusion matrix restricted to the involved classes: rows GT class, columns predicted class. */
export function confusionRows(a: ErrorAnalysis): Row[] {
  const idx = confusedClasses(a),
    { names, counts } = a.confusion;
  return idx.map((i) => ({
    'GT ↓ / predicted →': names[i],
    ...Object.fromEntries(idx.map((j) => [names[j], counts[i][j]])),
    total: counts[i].reduce((s, n) => s + n, 0),
  }));
}

export const worstImageRows = (a: ErrorAnalysis): Row[] =>
  a.worstImages.map((im, i) => ({
    rank: i + 1,
    image_id: im.imageId,
    file: im.fileName,
    errors: im.errors,
    tp: im.counts.tp,
    ...Object.fromEntries(ERROR_KINDS.map((k) => [k, im.counts[k]])),
  }));

/** The line every page starts with: what was analysed, at which thresholds. */
export const settingsLine = (a: ErrorAnalysis): string =>
  `${a.images} images, ${a.gtObjects} GT objects (non-crowd), ${a.predictions} predictions with score ≥ ${a.options.scoreThr}; IoU threshold ${a.options.iouThr}.`;

export function errorsByClassMarkdown(a: ErrorAnalysis, rule: string): string {
  return ['# Errors by class', '', settingsLine(a), '', markdownTable(errorsByClassRows(a)), '', rule, ''].join('\n');
}

export function errorsBySizeMarkdown(a: ErrorAnalysis): string {
  return [
    '# Errors by object size',
    '',
    settingsLine(a),
    '',
    markdownTable(errorsBySizeRows(a)),
    '',
    "Buckets by area in pixels: small < 32², medium < 96², large ≥ 96² (the GT's area; the prediction's w·h for false_pos and crowd).",
    '',
  ].join('\n');
}

export function confusionMarkdown(a: ErrorAnalysis): string {
  const rows = confusionRows(a);
  const body = rows.length
    ? markdownTable(rows)
    : `No cls_error at IoU ≥ ${a.options.iouThr}: no object was found with the wrong class.`;
  return [
    '# Class confusion (cls_error)',
    '',
    settingsLine(a),
    '',
    'Rows: the GT class; columns: the predicted class; only classes involved in a cls_error are shown.',
    '',
    body,
    '',
  ].join('\n');
}
