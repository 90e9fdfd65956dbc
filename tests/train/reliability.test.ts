// Training under failure: divergence, kills, two runs in one folder, changed settings on resume, nothing to
// train on, malformed run files. Each case must end in a UserError (exit 2) and leave nothing bad on disk.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { makeDemo } from '../../lib/coco/demo/make_demo.js';
import { makeSubset } from '../../lib/coco/subset.js';
import { train } from '../../lib/train/fit.js';
import { readSafetensors, toFloat32 } from '../../lib/io/safetensors.js';
import { readLog } from '../../lib/io/run_dir.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-reliability-'));
const CLI = path.join(__dirname, '..', '..', '..', 'bin', 'detrlab.js');
let subset = '';
const base = (out: string) => ({
  dataRoot: subset,
  modelName: 'scratch:demo',
  augment: 'demo',
  outputDir: path.join(tmp, out),
  batchSize: 2,
  workers: 1,
  backend: 'wasm',
  valMaxImages: 2,
  traceSteps: 0,
  tbImages: 0,
  epochs: 1,
  lr: 1e-3,
  lrBackbone: 1e-4,
});
const flags = (o: Record<string, unknown>) =>
  Object.entries(o).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(v)]);

before(async () => {
  await makeDemo({ out: path.join(tmp, 'demo'), imagesPerSplit: 8, quiet: true });
  subset = (
    await makeSubset({
      cocoRoot: path.join(tmp, 'demo'),
      outRoot: path.join(tmp, 'subset'),
      classes: ['person', 'car', 'bus'],
      quiet: true,
    })
  ).outRoot;
});

/** Every entry under `dir`, relative. */
const walk = (dir: string): string[] => fs.readdirSync(dir, { recursive: true, encoding: 'utf8' });

function allFinite(file: string): { tensors: number; bad: string[] } {
  const t = readSafetensors(file).tensors;
  const bad = [...t].filter(([, v]) => !toFloat32(v).every(Number.isFinite)).map(([k]) => k);
  return { tensors: t.size, bad };
}

for (const workers of [1, 2]) {
  test(
    `a diverging run (${workers} worker(s)) stops with a UserError before applying the bad step; checkpoints/last holds only finite values`,
    { timeout: 120_000 },
    async () => {
      const out = `diverge-${workers}`;
      await assert.rejects(
        train({ ...base(out), workers, lr: 1e8, lrBackbone: 1e8, clipMaxNorm: 0, checkpointEvery: 1, epochs: 30 }),
        (e: Error) =>
          e.name === 'UserError' &&
          /training diverged (at|by) step \d+/.test(e.message) &&
          /Lower --lr/.test(e.message),
      );
      const last = path.join(tmp, out, 'checkpoints', 'last');
      assert.ok(
        fs.existsSync(path.join(last, 'model.safetensors')),
        'the finite steps before the divergence were checkpointed',
      );
      for (const f of ['model.safetensors', 'optimizer.safetensors']) {
        const r = allFinite(path.join(last, f));
        assert.ok(r.tensors > 0);
        assert.deepEqual(r.bad, [], `${f}: non-finite tensors`);
      }
      const rows = readLog(path.join(tmp, out, 'log.jsonl'));
      assert.ok(rows.length >= 1);
      const trainRows = rows.filter((r) => r.split === 'train');
      assert.ok(
        trainRows.every((r) => Number.isFinite(r.loss_total) && Number.isFinite(r.grad_norm)),
        'no non-finite train row is logged',
      );
      assert.ok(
        rows.filter((r) => r.split === 'val').every((r) => Number.isFinite(r.loss_total)),
        'validation rows are finite',
      );
      assert.equal(fs.existsSync(path.join(tmp, out, '.lock')), false, 'the lock is released on the error');
      assert.deepEqual(
        walk(path.join(tmp, out)).filter((f) => /\.tmp/.test(f)),
        [],
      );
    },
  );
}

function startChild(out: string, extra: Record<string, unknown> = {}): ChildProcess {
  const o = { ...base(out), epochs: 200, checkpointEvery: 1, ...extra };
  return spawn(process.execPath, [CLI, 'train', ...flags(o)], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function waitFor(cond: () => boolean, what: string, ms = 90_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test(
  "a live run's folder is refused to a second run, to --overwrite and to --resume; after a SIGKILL the resumed run completes and no temp file survives",
  { timeout: 300_000 },
  async () => {
    const dir = path.join(tmp, 'live');
    const child = startChild('live');
    let stderr = '';
    child.stderr!.on('data', (d) => {
      stderr += String(d);
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitFor(
        () => fs.existsSync(path.join(dir, 'checkpoints', 'last', 'trainer_state.json')),
        `a checkpoint (${stderr})`,
      );
      const lock = JSON.parse(fs.readFileSync(path.join(dir, '.lock'), 'utf8'));
      assert.equal(lock.pid, child.pid);
      const logBefore = fs.readFileSync(path.join(dir, 'log.jsonl'), 'utf8').split('\n')[0];
      for (const extra of [{}, { overwrite: true }, { resume: true }]) {
        await assert.rejects(
          train({ ...base('live'), ...extra }),
          (e: Error) => e.name === 'UserError' && /is in use by a live run \(pid \d+/.test(e.message),
        );
      }
      // the refused runs wrote nothing: the live run's first log row and its config are untouched
      assert.equal(fs.readFileSync(path.join(dir, 'log.jsonl'), 'utf8').split('\n')[0], logBefore);
      assert.equal(fs.existsSync(path.join(dir, 'config.json')), true);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // What a kill can leave: a stale lock, and (if it landed inside a checkpoint write) a temp folder; plant one too.
    assert.ok(fs.existsSync(path.join(dir, '.lock')), 'SIGKILL leaves the lock behind');
    fs.mkdirSync(path.join(dir, 'checkpoints', '.last.tmp-999999-3'));
    fs.writeFileSync(path.join(dir, 'checkpoints', '.last.tmp-999999-3', 'model.safetensors'), 'half');
    fs.writeFileSync(path.join(dir, '.config.json.999999.0.tmp'), '{');
    const done = readLog(path.join(dir, 'log.jsonl')).filter((r) => r.split === 'train').length;
    const r = await train({ ...base('live'), epochs: 200, checkpointEvery: 1, resume: true, maxSteps: done + 2 });
    assert.ok(r.steps > 0);
    assert.deepEqual(
      walk(dir).filter((f) => /\.tmp|\.old/.test(f)),
      [],
      'no temp file or folder survives a completed run',
    );
    assert.equal(fs.existsSync(path.join(dir, '.lock')), false);
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoints', 'last', 'trainer_state.json'), 'utf8'));
    assert.equal(state.step, r.steps);
  },
);

test(
  '--resume refuses a changed seed, batch size, learning rate or data root unless --allow-changed-settings',
  { timeout: 120_000 },
  async () => {
    await train({ ...base('settings'), maxSteps: 1 });
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ seed: 7 }, /--seed 42 \(now 7\)/],
      [{ batchSize: 1 }, /--batch-size 2 \(now 1\)/],
      [{ lr: 5e-4 }, /--lr 0\.001 \(now 0\.0005\)/],
      [{ lrBackbone: 1 }, /--lr-backbone 0\.0001 \(now 1\)/],
      [{ dataRoot: path.join(tmp, 'demo') }, /--data-root .*subset \(now .*demo\)/],
    ];
    for (const [change, re] of cases) {
      await assert.rejects(
        train({ ...base('settings'), resume: true, maxSteps: 2, ...change }),
        (e: Error) => e.name === 'UserError' && re.test(e.message) && /--allow-changed-settings/.test(e.message),
      );
    }
    const before = fs.readFileSync(path.join(tmp, 'settings', 'config.json'), 'utf8');
    assert.match(before, /"seed": 42/, 'a refused resume leaves config.json alone');
    // the same data root written differently is the same setting
    const same = await train({
      ...base('settings'),
      resume: true,
      maxSteps: 2,
      dataRoot: path.relative(process.cwd(), subset) + path.sep,
    });
    assert.equal(same.steps, 2);
    const r = await train({ ...base('settings'), resume: true, maxSteps: 3, seed: 7, allowChangedSettings: true });
    assert.equal(r.steps, 3);
    const cfg = JSON.parse(fs.readFileSync(path.join(tmp, 'settings', 'config.json'), 'utf8'));
    assert.deepEqual(cfg.changedOnResume, { seed: { was: 42, now: 7 } });
  },
);

test(
  'nothing to train on: no images, every image missing, every image unreadable, fewer images than a batch',
  { timeout: 120_000 },
  async () => {
    const copy = (name: string) => {
      const root = path.join(tmp, name);
      fs.cpSync(subset, root, { recursive: true });
      const m = JSON.parse(fs.readFileSync(path.join(root, 'subset.json'), 'utf8'));
      const images = path.join(tmp, `${name}-images`);
      fs.cpSync(path.resolve(subset, m.imageDirs.train), images, { recursive: true });
      m.imageDirs.train = path.relative(root, images);
      fs.writeFileSync(path.join(root, 'subset.json'), JSON.stringify(m));
      return { root, images, ann: path.join(root, 'annotations', 'instances_train2017.json') };
    };
    const noCheckpoint = (out: string) =>
      assert.equal(fs.existsSync(path.join(tmp, out, 'checkpoints')), false, `${out}: no checkpoint after 0 steps`);

    const empty = copy('nothing-empty');
    const a = JSON.parse(fs.readFileSync(empty.ann, 'utf8'));
    fs.writeFileSync(empty.ann, JSON.stringify({ ...a, images: [], annotations: [] }));
    await assert.rejects(train({ ...base('out-empty'), dataRoot: empty.root }), /train split of .* has no images/);
    noCheckpoint('out-empty');

    const missing = copy('nothing-missing');
    fs.rmSync(missing.images, { recursive: true });
    await assert.rejects(
      train({ ...base('out-missing'), dataRoot: missing.root }),
      /none of the \d+ train images .* exist/,
    );
    noCheckpoint('out-missing');

    const broken = copy('nothing-broken');
    for (const f of fs.readdirSync(broken.images)) fs.writeFileSync(path.join(broken.images, f), 'not an image');
    await assert.rejects(
      train({ ...base('out-broken'), dataRoot: broken.root }),
      (e: Error) => e.name === 'UserError' && /ran no step: every train image was skipped/.test(e.message),
    );
    noCheckpoint('out-broken');

    await assert.rejects(train({ ...base('out-batch'), batchSize: 1000 }), /fewer than --batch-size 1000/);
    noCheckpoint('out-batch');
  },
);

test(
  'the CLI: malformed run files and a diverging run end with exit 2 and one line, never a stack trace',
  { timeout: 120_000 },
  async () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    const dir = path.join(tmp, 'cli-run');
    assert.equal(cli('train', ...flags({ ...base('cli-run'), maxSteps: 1 })).status, 0);
    const state = path.join(dir, 'checkpoints', 'last', 'trainer_state.json');
    const good = fs.readFileSync(state, 'utf8');
    fs.writeFileSync(state, good.slice(0, 40));
    const r1 = cli('train', ...flags({ ...base('cli-run'), resume: true, maxSteps: 2 }));
    assert.equal(r1.status, 2, r1.stderr);
    assert.match(r1.stderr, /trainer_state\.json is not valid JSON/);
    assert.doesNotMatch(r1.stderr, /\n\s+at /);
    fs.writeFileSync(state, good);
    const labelMap = path.join(tmp, 'cli-subset', 'label_map.json');
    fs.cpSync(subset, path.join(tmp, 'cli-subset'), { recursive: true });
    fs.writeFileSync(labelMap, '{"classes": ["person"');
    const r2 = cli('train', ...flags({ ...base('cli-run2'), dataRoot: path.join(tmp, 'cli-subset') }));
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /label_map\.json is not valid JSON/);
    assert.equal(fs.existsSync(path.join(tmp, 'cli-run2', '.lock')), false);
    const r3 = cli(
      'train',
      ...flags({ ...base('cli-div'), lr: 1e8, lrBackbone: 1e8, clipMaxNorm: 0, checkpointEvery: 1, epochs: 30 }),
    );
    assert.equal(r3.status, 2, r3.stderr);
    assert.match(r3.stderr, /detrlab train: error: training diverged/);
    assert.doesNotMatch(r3.stderr, /internal error|\n\s+at /);
  },
);
