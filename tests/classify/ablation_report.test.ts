/** The ablation summary from hand-written run folders: every number traces back to a file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ablationRunRefs } from '../../lib/classify/ablation_plan.js';
import { summariseAblation } from '../../lib/classify/ablation_report.js';
import { ablationMarkdown, ABLATION_COLUMNS, parseMarkdownTable } from '../../lib/classify/ablation_tables.js';
import { tmpDir } from './fixtures.js';

const CLASSES = ['a', 'b', 'c'];

/** A finished run folder with the given best-epoch figures. */
function writeRun(
  dir: string,
  o: { acc: number; perClass: Record<string, number>; digests: string[]; synth?: number },
): void {
  fs.mkdirSync(dir, { recursive: true });
  const best = {
    epoch: 1,
    accuracy: o.acc,
    balancedAccuracy: o.acc - 0.1,
    rareAccuracy: o.perClass.c,
    perClass: o.perClass,
    support: { a: 5, b: 5, c: 2 },
    confusion: [
      [5, 0, 0],
      [0, 5, 0],
      [0, 0, 2],
    ],
  };
  const metrics = {
    name: path.basename(dir),
    seed: 0,
    classes: CLASSES,
    rare: ['c'],
    best,
    final: best,
    epochs: [],
    counts: {
      train_real: { a: 10, b: 8, c: 3 },
      train_synth: { a: 0, b: 0, c: o.synth ?? 0 },
      val: { a: 5, b: 5, c: 2 },
    },
    backbone: {
      backboneWeights: 'none',
      backbone: { depth: 18, width: 8, numStages: 3, trainableFrom: 'all' },
      loadedTensors: 0,
      skippedTensors: 0,
    },
    backend: 'wasm',
    seconds: 1,
    train_img_per_s: 10,
  };
  fs.writeFileSync(path.join(dir, 'metrics.json'), JSON.stringify(metrics));
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify({
      params: { epochs: 2, lr: 1e-3 },
      synthProvenance: [{ models: '/models/sd15', images: 4, tiny: false }],
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'log.jsonl'),
    o.digests
      .map((d, e) => JSON.stringify({ split: 'train_epoch', epoch: e, step: e, real_order_sha1: d }))
      .join('\n') + '\n',
  );
}

test('two seeds: best_val_acc mean ± std per run, Δ of the means, per-seed Δ and its std, per-class Δ', () => {
  const out = tmpDir('report');
  const refs = ablationRunRefs(out, [0, 1]);
  const figures: Record<string, number[]> = { real: [0.6, 0.7], real_synth: [0.65, 0.8] };
  for (const r of refs) {
    const acc = figures[r.name][r.seed];
    writeRun(r.dir, {
      acc,
      perClass: { a: acc, b: acc, c: r.name === 'real' ? 0.5 : 1 },
      digests: [`s${r.seed}e0`, `s${r.seed}e1`],
      synth: r.name === 'real_synth' ? 4 : 0,
    });
  }
  assert.equal(refs[2].dir, path.join(out, 'real', 'seed_1'));
  const j = summariseAblation({ synth: 'data/synth', epochs: 2, seeds: [0, 1] }, refs);
  assert.ok(Math.abs(j.real.best_val_acc - 0.65) < 1e-12);
  assert.ok(Math.abs(j.real_synth.best_val_acc - 0.725) < 1e-12);
  assert.ok(Math.abs(j.delta - 0.075) < 1e-12);
  assert.ok(Math.abs(j.real.best_val_acc_std - Math.sqrt(0.005)) < 1e-12); // (0.05² + 0.05²) / 1
  assert.deepEqual(
    j.delta_per_seed.map((d) => +d.toFixed(12)),
    [0.05, 0.1],
  );
  assert.ok(Math.abs(j.delta_std - Math.sqrt(0.00125)) < 1e-12); // (0.025² · 2) / 1
  assert.equal(j.delta_per_class.c, 0.5);
  assert.deepEqual(j.rare_classes, [{ class: 'c', train_crops_real: 3, synth_images: 4 }]);
  assert.equal(j.synth.tiny_models, false);
  const rows = parseMarkdownTable(ablationMarkdown(j), ABLATION_COLUMNS);
  assert.equal(rows[0].best_val_acc, '0.6500 ± 0.0707');
  assert.equal(rows[2].best_val_acc, '+0.0750 ± 0.0354');
});

test('changing a run file changes Δ; runs whose recorded real order differs are refused', () => {
  const out = tmpDir('report2');
  const [real, synth] = ablationRunRefs(out, [0]);
  writeRun(real.dir, { acc: 0.5, perClass: { a: 0.5, b: 0.5, c: 0.5 }, digests: ['x', 'y'] });
  writeRun(synth.dir, { acc: 0.55, perClass: { a: 0.5, b: 0.5, c: 0.7 }, digests: ['x', 'y'], synth: 4 });
  const p = { synth: 'data/synth', epochs: 2, seeds: [0] };
  assert.ok(Math.abs(summariseAblation(p, [real, synth]).delta - 0.05) < 1e-12);
  writeRun(synth.dir, { acc: 0.45, perClass: { a: 0.5, b: 0.5, c: 0.7 }, digests: ['x', 'y'], synth: 4 });
  assert.ok(Math.abs(summariseAblation(p, [real, synth]).delta + 0.05) < 1e-12);
  writeRun(synth.dir, { acc: 0.45, perClass: { a: 0.5, b: 0.5, c: 0.7 }, digests: ['x', 'z'], synth: 4 });
  assert.throws(() => summariseAblation(p, [real, synth]), /same real samples/);
});
