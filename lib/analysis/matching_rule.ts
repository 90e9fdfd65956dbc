/**
 * The error taxonomy's matching rule as markdown, for the analysis reports and the README. The rule is
 * implemented (and documented at length) in lib/eval/error_match.ts `matchImage`; this text states the
 * same rule for readers, with the thresholds filled in. A test checks it names every outcome.
 */
export function matchingRuleMarkdown(iouThr: number, scoreThr: number): string {
  return [
    `**Matching rule** (lib/eval/error_match.ts). Per image, predictions with score ≥ ${scoreThr} are taken in score order (ties: file order). IoU is box IoU; against a crowd region it is intersection / area(prediction), as in COCOeval.`,
    '',
    `1. **tp**: the prediction takes the not-yet-taken, non-crowd GT of its own class with the highest IoU ≥ ${iouThr} (greedy, as COCOeval at one threshold). If it takes none but lies in a crowd region of its class (IoU ≥ ${iouThr}) it is **crowd** (ignored).`,
    '2. Every other prediction gets the first outcome that applies, looking at non-crowd GT only:',
    `   - **duplicate**: IoU ≥ ${iouThr} with a GT of its class that a higher-scoring prediction already took;`,
    `   - **cls_error**: IoU ≥ ${iouThr} with a GT of another class (the best such GT gives the confusion-matrix pair: GT class → predicted class);`,
    `   - **loc_error**: right class, 0 < IoU < ${iouThr} with a GT of its class;`,
    `   - **cls_loc_error**: 0 < IoU < ${iouThr} with GT of other classes only;`,
    '   - **false_pos**: no overlap with any GT (background).',
    '3. **missed**: a non-crowd GT that no prediction of its class took in step 1 — even when a prediction of another class covers it (that prediction is its cls_error).',
    '',
    'Prediction outcomes count for the predicted class, missed for the GT class. Size buckets (COCO bounds, half-open so each object has one): small < 32², medium < 96², large ≥ 96² pixels, using the related GT\'s area (the prediction\'s w·h for false_pos and crowd).',
  ].join('\n');
}
