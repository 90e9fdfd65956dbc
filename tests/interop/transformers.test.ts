/**
 * Checkpoints against the real Hugging Face transformers 5 (scripts/hf_compat/detr_check.py in a Python venv
 * with transformers + CPU torch + timm, made by .ci/hf_venv.sh). Both directions on one padded batch:
 *  - detrlab writes (the demo fine-tune and ResNet-50 one step through the trainer, and random weights with
 *    non-trivial frozen-BN statistics) → `DetrForObjectDetection.from_pretrained(dir)` loads AS WRITTEN with
 *    0 missing / unexpected / mismatched keys; logits within 1e-4, boxes within 1e-5 of detrlab's;
 *  - transformers writes (`save_pretrained`, backbone_config = its own ResNet at other widths, or a timm
 *    ResNet-18 cut after layer3) → detrlab builds the architecture from backbone_config and predicts the same.
 * Skipped, saying why, without the venv (or with DETRLAB_HF_TESTS=skip); `DETRLAB_REQUIRE_HF=1` (set by .ci/run)
 * turns the skip into a failure.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import { Rng } from '../../lib/engine/rng.js';
import { writeSafetensors, readSafetensors, toFloat32 } from '../../lib/io/safetensors.js';
import { DetrModel } from '../../lib/detr/model.js';
import { resolveDetr, DetrPreset, DetrConfig } from '../../lib/detr/config.js';
import { saveCheckpoint } from '../../lib/detr/weights.js';
import { loadDetr } from '../../lib/detr/pretrained.js';
import { parityInputs, runParityDetr } from '../../lib/detr/parity.js';
import { makeDemo } from '../../lib/coco/demo/make_demo.js';
import { makeSubset } from '../../lib/coco/subset.js';
import { train } from '../../lib/train/fit.js';

/** The venv's python: $DETRLAB_HF_PYTHON, else $DETRLAB_HF_VENV/bin/python, else ~/.cache/detrlab/hf-venv. */
function hfPython(): string | undefined {
  const venv = process.env.DETRLAB_HF_VENV || path.join(os.homedir(), '.cache', 'detrlab', 'hf-venv');
  const py = process.env.DETRLAB_HF_PYTHON || path.join(venv, 'bin', 'python');
  return fs.existsSync(py) ? py : undefined;
}
const PY = hfPython();
const SKIP =
  process.env.DETRLAB_HF_TESTS === 'skip'
    ? 'DETRLAB_HF_TESTS=skip (.ci/run runs this file in a step of its own)'
    : PY
      ? false
      : 'no Python venv with transformers 5 (make one with .ci/hf_venv.sh, or set DETRLAB_HF_PYTHON)';
const SCRIPT = path.resolve(__dirname, '..', '..', '..', 'scripts', 'hf_compat', 'detr_check.py');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-hf-'));
const INPUTS = path.join(tmp, 'inputs.safetensors');
const NAMES = ['person', 'car', 'bus'];

test('the transformers venv is present where CI requires it', { skip: process.env.DETRLAB_REQUIRE_HF !== '1' }, () => {
  assert.equal(SKIP, false, `DETRLAB_REQUIRE_HF=1 but the tests would be skipped: ${SKIP}`);
});

function python(args: string[]): string {
  const r = spawnSync(PY!, [SCRIPT, ...args], {
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
  });
  if (r.status !== 0)
    throw new Error(`detr_check.py ${args[0]} failed (${r.status ?? r.signal}):\n${r.stderr.slice(-3000)}`);
  return r.stdout;
}

/** One padded batch: image 0 fills 64×80, image 1 is 48×56 in its top-left corner, padding zero. */
function writeInputs(): void {
  const [b, h, w] = [2, 64, 80];
  const rng = new Rng(7);
  const pixels = new Float32Array(b * 3 * h * w).map(() => rng.normal());
  const mask = new Float32Array(b * h * w).fill(1);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (y < 48 && x < 56) continue;
      mask[(h + y) * w + x] = 0;
      for (let c = 0; c < 3; c++) pixels[((3 + c) * h + y) * w + x] = 0;
    }
  writeSafetensors(INPUTS, {
    pixel_values: { dtype: 'F32', shape: [b, 3, h, w], data: pixels },
    pixel_mask: { dtype: 'F32', shape: [b, h, w], data: mask },
  });
}

const maxAbs = (a: Float32Array, b: Float32Array): number => {
  assert.equal(a.length, b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
};

/** detrlab's predictions for the checkpoint in `dir` (architecture from its config.json). */
async function detrlabPredict(
  dir: string,
): Promise<{ cfg: DetrConfig; logits: Float32Array; boxes: Float32Array; missing: number; unexpected: number }> {
  const { model, report } = await loadDetr({ weights: path.join(dir, 'model.safetensors'), rng: new Rng(0) });
  const { pixels, mask } = parityInputs(readSafetensors(INPUTS), INPUTS);
  try {
    const out = await runParityDetr(model, pixels, mask);
    return {
      cfg: model.cfg,
      logits: Float32Array.from(out.get('logits')!.data),
      boxes: Float32Array.from(out.get('pred_boxes')!.data),
      missing: report.missing.length,
      unexpected: report.unexpected.length,
    };
  } finally {
    pixels.dispose();
    mask.dispose();
    model.dispose();
  }
}

const hfOut = (file: string) => {
  const t = readSafetensors(file).tensors;
  return { logits: toFloat32(t.get('logits')!), boxes: toFloat32(t.get('pred_boxes')!) };
};

/** transformers loads `dir` as written and predicts what detrlab predicts. */
async function assertLoadsInTransformers(dir: string, what: string): Promise<Record<string, unknown>> {
  const out = path.join(dir, 'hf_out.safetensors');
  const info = JSON.parse(python(['load', dir, INPUTS, out]).trim().split('\n').pop()!) as Record<string, unknown>;
  for (const k of ['missing_keys', 'unexpected_keys', 'mismatched_keys'])
    assert.deepEqual(info[k], [], `${what}: ${k}`);
  assert.equal(info.auxiliary_loss, false);
  const ours = await detrlabPredict(dir),
    theirs = hfOut(out);
  const dl = maxAbs(ours.logits, theirs.logits),
    db = maxAbs(ours.boxes, theirs.boxes);
  console.log(`# ${what}: transformers vs detrlab max |Δ| logits ${dl.toExponential(2)}, boxes ${db.toExponential(2)}`);
  assert.ok(dl <= 1e-4, `${what}: logits differ by ${dl}`);
  assert.ok(db <= 1e-5, `${what}: boxes differ by ${db}`);
  return info;
}

/** A random model whose frozen-BN tensors are not the identity (a misplaced BN tensor then shows). */
function randomCheckpoint(preset: DetrPreset, dir: string): DetrConfig {
  const cfg = resolveDetr({ numClasses: NAMES.length }, preset);
  const model = DetrModel.create(cfg, new Rng(3));
  const rng = new Rng(5);
  for (const [name, spec] of model.params.specs) {
    if (!/(bn\d|downsample\.1)\.(weight|bias|running_mean|running_var)$/.test(name)) continue;
    const scale = /(weight|running_var)$/.test(name);
    const v = Float32Array.from({ length: spec.hfShape[0] }, () =>
      scale ? rng.uniform(0.5, 1.5) : 0.1 * rng.normal(),
    );
    model.params.set(name, tf.tensor1d(v), true);
  }
  saveCheckpoint(dir, model.params, cfg, { names: NAMES });
  model.dispose();
  return cfg;
}

let subset = '';
before(async () => {
  if (SKIP) return;
  await initEngine({ backend: 'wasm' });
  writeInputs();
  await makeDemo({ out: path.join(tmp, 'demo'), imagesPerSplit: 4, quiet: true });
  subset = (
    await makeSubset({
      cocoRoot: path.join(tmp, 'demo'),
      outRoot: path.join(tmp, 'subset'),
      classes: NAMES,
      quiet: true,
    })
  ).outRoot;
});

for (const preset of ['demo', 'detr-resnet-50'] as const) {
  test(
    `${preset}, random weights: transformers loads it as written and predicts as detrlab does`,
    { skip: SKIP, timeout: 600_000 },
    async () => {
      const dir = path.join(tmp, `random-${preset}`);
      const cfg = randomCheckpoint(preset, dir);
      const info = await assertLoadsInTransformers(dir, `${preset} (random)`);
      const bc = info.backbone_config as Record<string, unknown>;
      // a standard ResNet goes through timm under its own name, anything else through transformers' ResNet
      if (cfg.backbone.width === 64) assert.equal(bc.backbone, `resnet${cfg.backbone.depth}`);
      else assert.equal(bc.model_type, 'resnet');
    },
  );

  test(
    `${preset}, one step through detrlab's trainer: the checkpoint loads in transformers as written`,
    { skip: SKIP, timeout: 900_000 },
    async () => {
      const out = path.join(tmp, `train-${preset}`);
      await train({
        dataRoot: subset,
        modelName: `scratch:${preset}`,
        augment: 'demo',
        outputDir: out,
        batchSize: 2,
        workers: 1,
        backend: 'wasm',
        valMaxImages: 2,
        traceSteps: 0,
        epochs: 1,
        maxSteps: 1,
        lr: 1e-3,
        lrBackbone: 1e-4,
      });
      const dir = path.join(out, 'checkpoints', 'last');
      const written = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      assert.equal(written.detrlab.config.auxLoss, true, 'trained with auxiliary losses');
      assert.equal(written.auxiliary_loss, false, 'yet transformers is told the original decoder');
      await assertLoadsInTransformers(dir, `${preset} (1 training step)`);
    },
  );
}

const REVERSE: Record<string, Pick<DetrConfig['backbone'], 'depth' | 'width' | 'numStages'>> = {
  'resnet-basic-16x3': { depth: 18, width: 16, numStages: 3 },
  'resnet-bottleneck-8x4': { depth: 50, width: 8, numStages: 4 },
  'timm-resnet18x3': { depth: 18, width: 64, numStages: 3 },
};
for (const [kind, want] of Object.entries(REVERSE)) {
  test(
    `transformers-saved (${kind}): detrlab builds the backbone from backbone_config and predicts the same`,
    { skip: SKIP, timeout: 300_000 },
    async () => {
      const dir = path.join(tmp, `hf-${kind}`),
        out = path.join(tmp, `hf-${kind}.safetensors`);
      python(['save', kind, dir, INPUTS, out]);
      const ours = await detrlabPredict(dir),
        theirs = hfOut(out);
      const { depth, width, numStages } = ours.cfg.backbone;
      assert.deepEqual({ depth, width, numStages }, want);
      assert.deepEqual([ours.missing, ours.unexpected], [0, 0]);
      const dl = maxAbs(ours.logits, theirs.logits),
        db = maxAbs(ours.boxes, theirs.boxes);
      console.log(
        `# ${kind}: detrlab vs transformers max |Δ| logits ${dl.toExponential(2)}, boxes ${db.toExponential(2)}`,
      );
      assert.ok(dl <= 1e-4 && db <= 1e-5, `logits ${dl}, boxes ${db}`);
    },
  );
}
