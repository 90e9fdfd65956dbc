/**
 * `npm run bench -- subset [--engines split,stream-json] [--images 118287]`
 *
 * Generates (once, seeded, cached under runs/bench/subset_data) a COCO-shaped instances_train2017.json of
 * about 450 MB — 118,287 images, ~7.3 annotations each with polygon segmentations, categories last as in
 * the official file — then times `makeSubset` to the 10 mission classes in a fresh child process per
 * engine and reports its wall time and peak RSS. Targets (issue 3): < 60 s and < 2 GB on 2 cores.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeBench, peakRssMb } from './bench_util.js';
import { writeSyntheticCoco } from '../tests/fixtures/synthetic_coco.js';
import { makeSubset } from '../lib/coco/subset.js';
import { MISSION_CLASSES } from '../lib/coco/categories.js';
import { JsonEngine } from '../lib/coco/json_items.js';

const ROOT = path.join('runs', 'bench', 'subset_data');
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};

function ensureData(images: number): { file: string; bytes: number; genSeconds: number } {
  const file = path.join(ROOT, 'annotations', 'instances_train2017.json');
  const meta = path.join(ROOT, 'meta.json');
  const want = JSON.stringify({ images, seed: 2017, polygonPoints: 26, v: 1 });
  if (fs.existsSync(file) && fs.existsSync(meta) && fs.readFileSync(meta, 'utf8') === want) {
    return { file, bytes: fs.statSync(file).size, genSeconds: 0 };
  }
  const t0 = performance.now();
  console.error(`generating ${file} (${images} images)…`);
  const st = writeSyntheticCoco(file, { images, seed: 2017, polygonPoints: 26 });
  fs.writeFileSync(meta, want);
  return { file, bytes: st.bytes, genSeconds: (performance.now() - t0) / 1000 };
}

/** Child mode: one subset run, figures as JSON on stdout. */
async function measure(engine: JsonEngine): Promise<void> {
  const t0 = performance.now();
  const s = await makeSubset({
    cocoRoot: ROOT,
    outRoot: path.join(ROOT, `subset_${engine}`),
    classes: [...MISSION_CLASSES],
    splits: ['train'],
    jsonEngine: engine,
    force: true,
    quiet: true,
  });
  const seconds = (performance.now() - t0) / 1000;
  const out = fs.statSync(path.join(ROOT, `subset_${engine}`, 'annotations', 'instances_train2017.json')).size;
  process.stdout.write(
    JSON.stringify({
      seconds,
      peakRssMb: peakRssMb(),
      images: s.manifest.totals.train.images,
      annotations: s.manifest.totals.train.annotations,
      outBytes: out,
    }),
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--measure')) return measure(arg('measure', 'split') as JsonEngine);
  const images = Number(arg('images', '118287'));
  const engines = arg('engines', 'split').split(',') as JsonEngine[];
  const data = ensureData(images);
  const figures: Record<string, number | string> = {
    input_mb: data.bytes / 1e6,
    input_images: images,
    generate_s: data.genSeconds,
    classes: MISSION_CLASSES.length,
  };
  for (const engine of engines) {
    const key = engine.replace('-', '_');
    const raw = execFileSync(process.execPath, [__filename, '--measure', engine], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(raw) as {
      seconds: number;
      peakRssMb: number;
      images: number;
      annotations: number;
      outBytes: number;
    };
    Object.assign(figures, {
      [`${key}_subset_s`]: r.seconds,
      [`${key}_peak_rss_mb`]: r.peakRssMb,
      [`${key}_mb_per_s`]: data.bytes / 1e6 / r.seconds,
      subset_images: r.images,
      subset_annotations: r.annotations,
      subset_output_mb: r.outBytes / 1e6,
    });
  }
  figures.target_s = 60;
  figures.target_peak_rss_mb = 2048;
  figures.note = 'shared 2-core machine; wall times are noisy';
  writeBench('subset', figures);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
