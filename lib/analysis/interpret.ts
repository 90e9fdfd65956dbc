/**
 * A few sentences of automatic interpretation of COCO metrics and an error analysis: the mAP50 vs
 * mAP gap (localisation), small vs large AP, the dominant error type, the most confused class pair.
 * Each sentence states its numbers, so a reader can check it.
 */
import type { StatName } from '../cocoeval/summarize.js';
import { ErrorAnalysis, ERROR_KINDS, ErrorKind, errorTotal } from './error_analysis.js';

const pct = (x: number) => `${Math.round(100 * x)}%`;
const f3 = (x: number) => x.toFixed(3);
const valid = (x: number | undefined): x is number => x !== undefined && x >= 0;

const KIND_MEANING: Record<ErrorKind, string> = {
  missed: 'objects no prediction of their class found (a recall problem)',
  false_pos: 'predictions on background, overlapping no object',
  loc_error: 'right class, box misplaced (IoU below the threshold)',
  cls_error: 'objects found with the wrong class',
  cls_loc_error: 'wrong class and misplaced',
  duplicate: 'extra boxes on objects already found',
};

const MIN_MAP50_FOR_RATIO = 0.05;

function localisation(m: Partial<Record<StatName, number>>): string | undefined {
  const { map, map_50, map_75 } = m;
  if (!valid(map) || !valid(map_50) || map_50 === 0) return undefined;
  // Below a few points of mAP50 the model barely detects anything; a ratio of two tiny numbers says nothing about boxes.
  if (map_50 < MIN_MAP50_FOR_RATIO)
    return `mAP50 is only ${f3(map_50)}: the model finds few objects at all, so the mAP/mAP50 ratio says nothing yet about localisation.`;
  const ratio = map / map_50;
  const ap75 = valid(map_75) ? `, AP75 ${f3(map_75)}` : '';
  if (ratio < 0.5)
    return `mAP@[.5:.95] ${f3(map)} is under half of mAP50 ${f3(map_50)}${ap75}: objects are found but boxes are loose, so localisation is the main weakness.`;
  if (ratio < 0.65)
    return `mAP@[.5:.95] ${f3(map)} is ${pct(ratio)} of mAP50 ${f3(map_50)}${ap75}: a moderate localisation gap (boxes are right at IoU .5 more often than at .75).`;
  return `mAP@[.5:.95] ${f3(map)} is ${pct(ratio)} of mAP50 ${f3(map_50)}${ap75}: boxes are tight; what limits mAP is finding and classifying objects, not placing boxes.`;
}

function sizes(m: Partial<Record<StatName, number>>, a?: ErrorAnalysis): string | undefined {
  const { map_small: s, map_medium: md, map_large: l } = m;
  if (!valid(s) || !valid(l)) return undefined;
  const missedSmall =
    a && a.totals.missed > 0 ? ` ${pct(a.perSize.small.missed / a.totals.missed)} of missed objects are small.` : '';
  const mid = valid(md) ? `, medium ${f3(md)}` : '';
  if (s < 0.5 * l) return `Small objects are the weak point: AP small ${f3(s)}${mid} vs large ${f3(l)}.${missedSmall}`;
  if (s < 0.8 * l) return `Small objects are harder: AP small ${f3(s)}${mid} vs large ${f3(l)}.${missedSmall}`;
  if (l < 0.5 * s)
    return `Large objects do worse than small ones: AP large ${f3(l)} vs small ${f3(s)}${mid} (unusual: check large-box handling, e.g. clipping or the input size).`;
  return `AP is similar across sizes: small ${f3(s)}${mid}, large ${f3(l)}.${missedSmall}`;
}

function dominantError(a: ErrorAnalysis): string | undefined {
  const total = errorTotal(a.totals);
  if (total === 0)
    return `No errors at IoU ${a.options.iouThr} and score ≥ ${a.options.scoreThr} over ${a.images} images.`;
  const [kind, n] = ERROR_KINDS.map((k) => [k, a.totals[k]] as const).reduce((b, c) => (c[1] > b[1] ? c : b));
  return `The most frequent error is ${kind} (${n} of ${total} errors, ${pct(n / total)}, at IoU ${a.options.iouThr} and score ≥ ${a.options.scoreThr}): ${KIND_MEANING[kind]}.`;
}

function confusedPair(a: ErrorAnalysis): string | undefined {
  let best = { n: 0, i: -1, j: -1 };
  a.confusion.counts.forEach((row, i) =>
    row.forEach((n, j) => {
      if (n > best.n) best = { n, i, j };
    }),
  );
  if (best.n === 0) return undefined;
  const { names } = a.confusion;
  const share = a.totals.cls_error > 0 ? ` (${pct(best.n / a.totals.cls_error)} of class errors)` : '';
  return `Most confused pair: ${names[best.i]} predicted as ${names[best.j]}, ${best.n} time${best.n === 1 ? '' : 's'}${share}.`;
}

/** Sentences interpreting `metrics` (the 12 stats by name; may be null) and an error analysis (optional). */
export function interpret(metrics: Partial<Record<StatName, number>> | null, analysis?: ErrorAnalysis): string[] {
  const m = metrics ?? {};
  const out = [localisation(m), sizes(m, analysis)];
  if (analysis) out.push(dominantError(analysis), confusedPair(analysis));
  return out.filter((s): s is string => s !== undefined);
}
