import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import type { CocoDataset, CocoResult } from '../../lib/coco/types.js';
import { analyzeErrors, OUTCOMES } from '../../lib/analysis/error_analysis.js';
import { resolveCheckpoint } from '../../lib/eval/stage_inputs.js';
import { confusionRows, errorsByClassRows, errorsBySizeRows } from '../../lib/analysis/analysis_tables.js';
import { confusionChart, errorsByClassChart, OUTCOME_COLORS } from '../../lib/analysis/analysis_charts.js';
import { matchingRuleMarkdown } from '../../lib/analysis/matching_rule.js';
import { matchImage, UNMATCHED_RULES } from '../../lib/eval/error_match.js';
import { runErrorAnalysis } from '../../lib/analysis/analysis_stage.js';

/**
 * One 200×100 image, classes a (id 1) and b (id 2). GT: g1 a, g2 b, g3 a (small), a crowd region of a.
 * Predictions, one per outcome at IoU .5 / score .3 (worked by hand):
 *   p1 a on g1 → tp · p2 a shifted 1 px on g1 → duplicate · p3 a exactly on g2 (b) → cls_error (b→a)
 *   p4 b 20 px below g2, IoU 1/3 → loc_error · p5 b 20 px right of g1 (a), IoU 1/3 → cls_loc_error
 *   p6 a on background → false_pos · p7 a inside the crowd → crowd · p8 b on g3 at score .2 → left out
 *   → g2 (b) and g3 (a) are missed. Image 2 holds one object, found.
 */
const GT: CocoDataset = {
  images: [
    { id: 1, file_name: '1.png', width: 200, height: 100 },
    { id: 2, file_name: '2.png', width: 200, height: 100 },
  ],
  categories: [
    { id: 1, name: 'a' },
    { id: 2, name: 'b' },
  ],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, bbox: [10, 10, 40, 40], area: 1600, iscrowd: 0 },
    { id: 2, image_id: 1, category_id: 2, bbox: [100, 10, 40, 40], area: 1600, iscrowd: 0 },
    { id: 3, image_id: 1, category_id: 1, bbox: [150, 60, 20, 20], area: 400, iscrowd: 0 },
    { id: 4, image_id: 1, category_id: 1, bbox: [0, 60, 60, 40], area: 2400, iscrowd: 1 },
    { id: 5, image_id: 2, category_id: 2, bbox: [50, 20, 40, 40], area: 1600, iscrowd: 0 },
  ],
};
const d = (
  image_id: number,
  category_id: number,
  bbox: [number, number, number, number],
  score: number,
): CocoResult => ({ image_id, category_id, bbox, score });
const DETS: CocoResult[] = [
  d(1, 1, [10, 10, 40, 40], 0.9),
  d(1, 1, [11, 11, 40, 40], 0.8),
  d(1, 1, [100, 10, 40, 40], 0.7),
  d(1, 2, [100, 30, 40, 40], 0.6),
  d(1, 2, [30, 10, 40, 40], 0.55),
  d(1, 1, [175, 5, 20, 20], 0.5),
  d(1, 1, [5, 65, 20, 20], 0.45),
  d(1, 2, [150, 60, 20, 20], 0.2),
  d(2, 2, [50, 20, 40, 40], 0.95),
];
const OPTS = { iouThr: 0.5, scoreThr: 0.3, maxImages: 0, topImages: 5 };

let root: string;
before(async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-analysis-'));
  root = path.join(base, 'subset');
  fs.mkdirSync(path.join(root, 'annotations'), { recursive: true });
  fs.mkdirSync(path.join(base, 'images'));
  for (const im of GT.images)
    await sharp({ create: { width: 200, height: 100, channels: 3, background: '#808080' } })
      .png()
      .toFile(path.join(base, 'images', im.file_name));
  fs.writeFileSync(path.join(root, 'annotations', 'instances_val2017.json'), JSON.stringify(GT));
  fs.writeFileSync(path.join(root, 'label_map.json'), JSON.stringify({ classes: ['a', 'b'], categoryIds: [1, 2] }));
  fs.writeFileSync(
    path.join(root, 'subset.json'),
    JSON.stringify({ cocoRoot: '..', imageDirs: { val: '../images' }, classes: ['a', 'b'], counts: {} }),
  );
});

const zeros = () => Object.fromEntries(OUTCOMES.map((o) => [o, 0]));

test('tables: per-class, per-size and confusion rows equal the hand count', () => {
  const a = analyzeErrors(GT, DETS, OPTS);
  const cls = errorsByClassRows(a);
  assert.deepEqual(cls[0], {
    class: 'a',
    gt: 2,
    predictions: 5,
    tp: 1,
    cls_error: 1,
    loc_error: 0,
    cls_loc_error: 0,
    duplicate: 1,
    false_pos: 1,
    missed: 1,
    errors: 4,
    crowd: 1,
  });
  assert.deepEqual(cls[1], {
    class: 'b',
    gt: 2,
    predictions: 3,
    tp: 1,
    cls_error: 0,
    loc_error: 1,
    cls_loc_error: 1,
    duplicate: 0,
    false_pos: 0,
    missed: 1,
    errors: 3,
    crowd: 0,
  });
  const size = errorsBySizeRows(a);
  assert.deepEqual(
    size.map((r) => r.size),
    ['small', 'medium', 'large', 'all'],
  );
  assert.deepEqual(size[0], {
    size: 'small',
    tp: 0,
    cls_error: 0,
    loc_error: 0,
    cls_loc_error: 0,
    duplicate: 0,
    false_pos: 1,
    missed: 1,
    errors: 2,
    crowd: 1,
  });
  assert.deepEqual(size[1], {
    size: 'medium',
    tp: 2,
    cls_error: 1,
    loc_error: 1,
    cls_loc_error: 1,
    duplicate: 1,
    false_pos: 0,
    missed: 1,
    errors: 5,
    crowd: 0,
  });
  assert.equal(size[3].errors, 7);
  assert.deepEqual(confusionRows(a), [
    { 'GT ↓ / predicted →': 'a', a: 0, b: 0, total: 0 },
    { 'GT ↓ / predicted →': 'b', a: 1, b: 0, total: 1 },
  ]);
  const bars = (errorsByClassChart(a).data as { values: Array<{ group: string; count: number }> }).values;
  assert.equal(
    bars.filter((r) => r.group === 'a').reduce((s, r) => s + r.count, 0),
    4,
  );
  assert.equal(
    confusionChart(
      analyzeErrors(
        GT,
        DETS.filter((x) => x.score > 0.75),
        OPTS,
      ),
    ),
    undefined,
    'no cls_error → no heatmap',
  );
});

test("the matching rule text names every outcome and the thresholds, step 2 in the order of the matcher's table", () => {
  const md = matchingRuleMarkdown(0.5, 0.3);
  for (const o of OUTCOMES) assert.ok(md.includes(`**${o}**`), o);
  assert.ok(md.includes('IoU ≥ 0.5') && md.includes('score ≥ 0.3'));
  const step2 = md.split('\n').filter((l) => l.startsWith('   - **'));
  assert.deepEqual(
    step2.map((l) => /\*\*(\w+)\*\*/.exec(l)![1]),
    [...UNMATCHED_RULES.map((r) => r.outcome), 'false_pos'],
  );
  UNMATCHED_RULES.forEach((r, i) => {
    assert.equal(step2[i].includes('IoU ≥ 0.5'), r.iou === 'match', step2[i]);
    assert.equal(step2[i].includes('0 < IoU < 0.5'), r.iou === 'overlap', step2[i]);
    assert.equal(step2[i].includes('of its class'), r.gt === 'same', step2[i]);
  });
});

test('the matcher gives, for each unmatched prediction, the first row of its table that applies', () => {
  type Box4 = [number, number, number, number];
  const gt = (id: number, cat: number, bbox: Box4) => ({
    id,
    image_id: 1,
    category_id: cat,
    bbox,
    area: bbox[2] * bbox[3],
    iscrowd: 0 as const,
  });
  const dt = (cat: number, bbox: Box4, score: number) => ({ image_id: 1, category_id: cat, bbox, score });
  const A = gt(1, 1, [0, 0, 10, 10]);
  // The last prediction of each case is the one classified; `same` / `other` = its best IoU with non-crowd GT of its
  // class / of other classes (hand-computed: [0,0,10,2] vs A: 20 / 100 = 0.2; [6,0,10,10] vs A: 40 / 160 = 0.25).
  const cases = [
    { name: 'duplicate', gts: [A], preds: [dt(1, [0, 0, 10, 10], 0.9), dt(1, [0, 0, 10, 10], 0.8)], same: 1, other: 0 },
    { name: 'cls_error', gts: [A], preds: [dt(2, [0, 0, 10, 10], 0.9)], same: 0, other: 1 },
    { name: 'loc_error', gts: [A], preds: [dt(1, [0, 0, 10, 2], 0.9)], same: 0.2, other: 0 },
    { name: 'cls_loc_error', gts: [A], preds: [dt(2, [0, 0, 10, 2], 0.9)], same: 0, other: 0.2 },
    { name: 'false_pos', gts: [A], preds: [dt(1, [50, 50, 5, 5], 0.9)], same: 0, other: 0 },
    {
      name: 'cls_error before loc_error',
      gts: [A, gt(2, 2, [6, 0, 10, 10])],
      preds: [dt(1, [6, 0, 10, 10], 0.9)],
      same: 0.25,
      other: 1,
    },
    {
      name: 'duplicate before cls_error',
      gts: [A, gt(2, 2, [0, 0, 10, 10])],
      preds: [dt(1, [0, 0, 10, 10], 0.9), dt(1, [0, 0, 10, 10], 0.8)],
      same: 1,
      other: 1,
    },
  ];
  for (const c of cases) {
    const fromTable =
      UNMATCHED_RULES.find((r) => (r.iou === 'match' ? c[r.gt] >= 0.5 : c[r.gt] > 0))?.outcome ?? 'false_pos';
    const got = matchImage(c.gts, c.preds, 0.5).predictions.find((p) => p.index === c.preds.length - 1)!;
    assert.equal(got.outcome, fromTable, c.name);
    assert.ok(c.name.startsWith(got.outcome), `${c.name}: the hand-stated outcome`);
    const iou = got.outcome === 'false_pos' ? 0 : got.outcome.startsWith('cls') ? c.other : c.same;
    assert.ok(Math.abs(got.iou - iou) < 1e-12, `${c.name}: IoU ${got.iou}, by hand ${iou}`);
  }
});

function fakeEval(run: string): void {
  const weights = path.join(run, 'checkpoints', 'best', 'model.safetensors');
  fs.mkdirSync(path.dirname(weights), { recursive: true });
  fs.writeFileSync(weights, 'not loaded when the detections are reused');
  const source = {
    checkpoint: resolveCheckpoint(run, 'best').fingerprint,
    dataRoot: path.resolve(root),
    split: 'val',
    scoreThr: 0,
    maxImages: 0,
    valSize: 800,
    maxSize: 1333,
  };
  fs.mkdirSync(path.join(run, 'metrics'));
  fs.writeFileSync(path.join(run, 'metrics', 'val_metrics.json'), JSON.stringify({ source }));
  fs.writeFileSync(path.join(run, 'metrics', 'detections_val.json'), JSON.stringify(DETS));
}

test(
  "error-analysis stage on eval's detections: every file, counts, rule, interpretation, outcome-coloured overlays",
  { timeout: 60_000 },
  async () => {
    const run = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-run-'));
    fakeEval(run);
    const r = await runErrorAnalysis({
      run,
      dataRoot: root,
      iouThr: 0.5,
      scoreThr: 0.3,
      maxImages: 0,
      maxSide: 200,
      quiet: true,
    });
    assert.match(r.detections, /reusing/);
    const dir = path.join(run, 'analysis');
    for (const f of [
      'error_analysis.json',
      'errors_by_class.md',
      'errors_by_size.md',
      'confusion.md',
      'worst_images.json',
      'interpretation.md',
      'errors_by_class.png',
      'errors_by_size.png',
      'confusion.png',
      'worst_images.png',
    ])
      assert.ok(fs.existsSync(path.join(dir, f)), f);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'error_analysis.json'), 'utf8'));
    assert.deepEqual(json.totals, {
      ...zeros(),
      tp: 2,
      crowd: 1,
      duplicate: 1,
      cls_error: 1,
      loc_error: 1,
      cls_loc_error: 1,
      false_pos: 1,
      missed: 2,
    });
    assert.equal(json.metrics.map_50 > 0, true);
    const worst = JSON.parse(fs.readFileSync(path.join(dir, 'worst_images.json'), 'utf8'));
    assert.deepEqual(
      worst.map((w: { imageId: number; errors: number }) => [w.imageId, w.errors]),
      [[1, 7]],
      'image 2 has no error',
    );
    assert.ok(fs.readFileSync(path.join(dir, 'errors_by_class.md'), 'utf8').includes('**cls_loc_error**'));
    assert.match(
      fs.readFileSync(path.join(dir, 'interpretation.md'), 'utf8'),
      /most frequent error is missed \(2 of 7/,
    );
    // Right panel starts at 200 + 8; caption strip 22 px. p3 (cls_error) bottom edge y = 50; g3 (missed) left edge x = 150.
    const { data, info } = await sharp(worst[0].overlay).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [0, 1, 2].map((c) => data[(y * info.width + x) * 3 + c]);
    const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]) <= 12);
    assert.ok(close(at(208 + 120, 22 + 50), rgb(OUTCOME_COLORS.cls_error)), `cls_error edge ${at(328, 72)}`);
    assert.ok(close(at(150, 22 + 70), rgb(OUTCOME_COLORS.missed)), `missed edge ${at(150, 92)}`);
  },
);
