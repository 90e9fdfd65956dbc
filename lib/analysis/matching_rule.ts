/**
 * The error taxonomy's matching rule as markdown, for the analysis reports. The rule is implemented (and
 * documented at length) in lib/eval/error_match.ts `matchImage`; step 2 is printed from the same table the
 * matcher applies (`UNMATCHED_RULES`), so the text cannot drift from the code. Thresholds are filled in.
 */
import { UNMATCHED_RULES } from '../eval/error_match.js';
import type { PredictionOutcome, UnmatchedRule } from '../eval/error_match.js';

/** What each step-2 outcome adds to its table row's condition, for readers. */
const NOTES: Partial<Record<PredictionOutcome, string>> = {
  duplicate: ' (a higher-scoring prediction already took it)',
  cls_error: ' (the best such GT gives the confusion-matrix pair: GT class → predicted class)',
  loc_error: ' (right class, misplaced)',
  cls_loc_error: ' (wrong class and misplaced)',
};

/** One row of `UNMATCHED_RULES` as a markdown list item. */
function ruleLine(r: UnmatchedRule, iouThr: number): string {
  const whom = r.gt === 'same' ? 'a GT of its class' : 'a GT of another class';
  const iou = r.iou === 'match' ? `IoU ≥ ${iouThr}` : `0 < IoU < ${iouThr}`;
  return `   - **${r.outcome}**: ${iou} with ${whom}${NOTES[r.outcome] ?? ''};`;
}

export function matchingRuleMarkdown(iouThr: number, scoreThr: number): string {
  return [
    `**Matching rule** (lib/eval/error_match.ts). Per image, predictions with score ≥ ${scoreThr} are taken in score order (ties: file order). IoU is box IoU; against a crowd region it is intersection / area(prediction), as in COCOeval.`,
    '',
    `1. **tp**: the prediction takes the not-yet-taken, non-crowd GT of its own class with the highest IoU ≥ ${iouThr} (greedy, as COCOeval at one threshold). If it takes none but lies in a crowd region of its class (IoU ≥ ${iouThr}) it is **crowd** (ignored).`,
    '2. Every other prediction gets the first outcome that applies, in this order, looking at non-crowd GT only:',
    ...UNMATCHED_RULES.map((r) => ruleLine(r, iouThr)),
    '   - **false_pos**: no overlap with any GT (background).',
    '3. **missed**: a non-crowd GT that no prediction of its class took in step 1 — even when a prediction of another class covers it (that prediction is its cls_error).',
    '',
    "Prediction outcomes count for the predicted class, missed for the GT class. Size buckets (COCO bounds, half-open so each object has one): small < 32², medium < 96², large ≥ 96² pixels, using the related GT's area (the prediction's w·h for false_pos and crowd).",
  ].join('\n');
}
