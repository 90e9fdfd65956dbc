/**
 * Stage 08: synthetic images of the rare classes (docs/data_layout.md "Synthetic images"). Shared by
 * `detrlab synth` and notebook 08. Resumable and shardable: an image counts as done when its PNG and its
 * record (`.records/<class>/<index>.json`) exist; every file is written atomically; metadata.jsonl is
 * rebuilt from the records at the end of each run, so shards finishing in any order leave it complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { UserError } from '../params/user_error.js';
import { progress } from '../viz/progress.js';
import { readCropManifest } from '../crops/crop_viz.js';
import { controlFromCrop } from './control_image.js';
import { resolveModelFolder } from './model_folder.js';
import { ControlNetPipeline } from './pipeline.js';
import { promptFor } from './prompts.js';
import { cannyOf, generationKey, resolveSynthParams, SynthParams } from './synth_params.js';
import { parseShard, planJobs, SynthJob } from './synth_jobs.js';
import { chwToRgbBytes } from './tensor_ops.js';
import { ensureTinyModels } from './tiny/tiny_folder.js';
import { writeExamplesGrid } from './synth_viz.js';
import type { SynthRecord } from './synth_metadata.js';
import type { StageOverrides } from '../params/overrides.js';

export { readSynthMetadata, type SynthRecord } from './synth_metadata.js';

export interface SynthSummary {
  generated: number;
  skipped: number;
  /** Images made again because their crop no longer gives the control image they were made from. */
  stale: number;
  planned: number;
  models: string;
  provider: string;
  msPerStep: number;
  metadata: string;
  grid?: string;
}

/** The classes to synthesise: the given ones, else classes.json's rare ones. */
export function synthClasses(p: SynthParams): string[] {
  if (p.classes.length) return p.classes;
  const file = path.join(p.crops, 'classes.json');
  if (!fs.existsSync(file))
    throw new UserError(`${file} does not exist; run \`detrlab crops\` first or pass --classes`);
  return readJson<{ rare: string[] }>(file).rare;
}

export async function synthesize(overrides: StageOverrides<SynthParams> = {}): Promise<SynthSummary> {
  const given = resolveSynthParams(overrides);
  // diffusers only asks for multiples of 8, but SD's UNet halves the latent three times: 64 keeps every level whole
  if (given.size % 64 !== 0) throw new UserError(`--size must be a multiple of 64 (SD 1.5: 512), got ${given.size}`);
  const files = resolveModelFolder(given.modelDir || ensureTinyModels());
  const p: SynthParams = { ...given, size: given.size || files.nativeSize }; // 0: the model's own size
  const jobs = planJobs(synthClasses(p), p.perClass, readCropManifest(p.crops), p.seed, parseShard(p.shard));
  claimFolder(p, files.label, files.fingerprint);
  removeStaleTemps(p.out);
  // An image is kept only while its crop still gives the control image it was made from: the folder's key
  // pins models and settings, but a crops folder rebuilt from other data (a new demo layout, another subset)
  // can put another crop under the same job; that image is made again. The check recomputes each control
  // image (~10 ms at 64 px, ~110 ms at 512), hence its own progress bar.
  const existing = jobs.filter((j) =>
    [j.file, j.recordFile, j.controlFile].every((f) => fs.existsSync(path.join(p.out, f))),
  );
  const kept = new Set<SynthJob>();
  if (existing.length) {
    const bar = progress({ total: existing.length, label: `check ${p.shard}`, unit: 'img' });
    for (const j of existing) {
      const now = await controlOf(j, p);
      if (now.png.equals(fs.readFileSync(path.join(p.out, j.controlFile)))) kept.add(j);
      bar.tick();
    }
    bar.done();
  }
  const todo = jobs.filter((j) => !kept.has(j));
  const stale = existing.length - kept.size;
  let msPerStep = NaN,
    provider = 'none';
  if (todo.length) {
    const pipe = await ControlNetPipeline.load(files, p.cpu ? ['cpu'] : undefined, p.threads || (files.tiny ? 1 : 0));
    provider = pipe.provider;
    const bar = progress({ total: todo.length, label: `synth ${p.shard}`, unit: 'img' });
    const stepMs: number[] = [];
    try {
      for (const job of todo) {
        stepMs.push(...(await runJob(pipe, job, p, files.label)));
        bar.tick(1, { class: job.class });
      }
    } finally {
      await pipe.dispose();
    }
    bar.done();
    msPerStep = stepMs.reduce((a, b) => a + b, 0) / stepMs.length;
  }
  const metadata = rebuildMetadata(p.out);
  const grid = p.examples ? await writeExamplesGrid(p, files.label) : undefined;
  return {
    generated: todo.length,
    skipped: jobs.length - todo.length,
    stale,
    planned: jobs.length,
    models: files.label,
    provider,
    msPerStep,
    metadata,
    grid,
  };
}

/** The control image of a job: the Canny edges of its crop at the output size. */
const controlOf = (job: SynthJob, p: SynthParams) =>
  controlFromCrop(path.join(p.crops, job.crop.file), p.size, cannyOf(p));

/** One image: control image, generation, PNGs, then its record (last, so a kill never leaves a record without its image). */
async function runJob(pipe: ControlNetPipeline, job: SynthJob, p: SynthParams, models: string): Promise<number[]> {
  const cropFile = path.join(p.crops, job.crop.file);
  const control = await controlOf(job, p);
  const prompt = promptFor(p.promptTemplate, job.class);
  const r = await pipe.generate({
    prompt,
    negativePrompt: p.negativePrompt,
    control: control.nchw,
    width: p.size,
    height: p.size,
    steps: p.steps,
    guidance: p.guidance,
    scheduler: p.scheduler,
    conditioningScale: p.conditioningScale,
    seed: job.seed,
  });
  const png = await sharp(Buffer.from(chwToRgbBytes(r.image, p.size, p.size)), {
    raw: { width: p.size, height: p.size, channels: 3 },
  })
    .png()
    .toBuffer();
  writeFileAtomic(path.join(p.out, job.controlFile), control.png);
  writeFileAtomic(path.join(p.out, job.file), png);
  const record: SynthRecord = {
    file: job.file,
    class: job.class,
    index: job.index,
    prompt,
    negativePrompt: p.negativePrompt,
    seed: job.seed,
    baseSeed: p.seed,
    steps: p.steps,
    guidance: p.guidance,
    scheduler: p.scheduler,
    conditioningScale: p.conditioningScale,
    size: p.size,
    sourceCrop: cropFile,
    controlImage: job.controlFile,
    models,
    provider: pipe.provider,
  };
  writeJsonAtomic(path.join(p.out, job.recordFile), record);
  return r.stepMs;
}

/** `synth_config.json` pins the pixel-changing parameters of a folder; a run with other ones is refused. */
function claimFolder(p: SynthParams, models: string, fingerprint: string): void {
  const file = path.join(p.out, 'synth_config.json');
  const key = generationKey(p, models, fingerprint);
  if (fs.existsSync(file)) {
    const old = readJson<Record<string, unknown>>(file);
    const diff = Object.keys(key).filter(
      (k) => JSON.stringify(old[k]) !== JSON.stringify((key as Record<string, unknown>)[k]),
    );
    if (diff.length)
      throw new UserError(
        `${p.out} holds images made with other settings (${diff.map((k) => `${k}: ${JSON.stringify(old[k])}`).join('; ')}); use another --out or delete it`,
      );
    return;
  }
  writeJsonAtomic(file, key);
}

/**
 * Temp files (`.<name>.<pid>.<n>.tmp`, see writeFileAtomic) that a killed run left behind; a temp file of a
 * live process (another shard writing right now) is left alone. Never touches a final file.
 */
function removeStaleTemps(dir: string, depth = 3): void {
  if (depth < 0 || !fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const m = /^\..+\.(\d+)\.\d+\.tmp$/.exec(e.name);
    if (e.isDirectory()) removeStaleTemps(p, depth - 1);
    else if (m && !processAlive(Number(m[1]))) fs.rmSync(p, { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** metadata.jsonl = every record in the folder, sorted by class then index. */
export function rebuildMetadata(out: string): string {
  const dir = path.join(out, '.records');
  const recs: SynthRecord[] = [];
  if (fs.existsSync(dir)) {
    for (const c of fs.readdirSync(dir)) {
      for (const f of fs.readdirSync(path.join(dir, c)))
        if (f.endsWith('.json')) recs.push(readJson<SynthRecord>(path.join(dir, c, f)));
    }
  }
  recs.sort((a, b) => a.class.localeCompare(b.class) || a.index - b.index);
  const file = path.join(out, 'metadata.jsonl');
  writeFileAtomic(file, recs.map((r) => JSON.stringify(r)).join('\n') + (recs.length ? '\n' : ''));
  return file;
}
