/**
 * The classifier's samples, read from the two input contracts (docs/data_layout.md):
 *   "Crops"            <crops>/manifest.jsonl + classes.json → real train and val samples, label = index in classes
 *   "Synthetic images" <synth>/metadata.jsonl              → synthetic train samples of the rare classes only
 * Malformed input is a UserError naming the file and line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCropManifest } from '../crops/crop_viz.js';
import { Rng, seedFrom } from '../engine/rng.js';
import { UserError } from '../params/user_error.js';
import { TINY_MARKER } from '../synth/tiny/tiny_folder.js';
import { readJsonFile as readJsonFileShared } from '../io/json_file.js';

export type SampleSource = 'real' | 'synth';
export interface ClassifierSample {
  /** Unique and stable: `real:<manifest file>` or `synth:<metadata file>`; seeds this sample's augmentation. */
  key: string;
  /** Path to read. */
  file: string;
  label: number;
  class: string;
  source: SampleSource;
}

export interface CropsData {
  dir: string;
  classes: string[];
  rare: string[];
  train: ClassifierSample[];
  val: ClassifierSample[];
}

/** Which model folder produced synthetic images, and how many. */
export interface SynthProvenance {
  models: string;
  images: number;
  tiny: boolean;
}
export interface SynthData {
  dir: string;
  /** Synthetic samples of the rare classes, in metadata.jsonl order. */
  samples: ClassifierSample[];
  /** Images per rare class (0 where none). */
  perClass: Record<string, number>;
  /** Images of classes that are not rare: not used. */
  ignored: number;
  provenance: SynthProvenance[];
}

interface ClassesJson {
  classes: string[];
  rare: string[];
}

function readJsonFile<T>(file: string, what: string): T {
  return readJsonFileShared<T>(file, { what });
}

function checkFilesExist(samples: ClassifierSample[], listFile: string): void {
  const missing = samples.filter((s) => !fs.existsSync(s.file));
  if (missing.length)
    throw new UserError(`${missing.length} images listed in ${listFile} do not exist, e.g. ${missing[0].file}`);
}

/** At most `max` samples per class (0 = all), chosen with the seed; manifest order is kept. */
export function capPerClass(samples: ClassifierSample[], max: number, seed: number): ClassifierSample[] {
  if (max <= 0) return samples;
  const keep = new Set<string>();
  for (const c of new Set(samples.map((s) => s.class))) {
    const mine = samples.filter((s) => s.class === c);
    for (const i of new Rng(seedFrom('classify-cap', seed, c)).permutation(mine.length).slice(0, max))
      keep.add(mine[i].key);
  }
  return samples.filter((s) => keep.has(s.key));
}

/** Real crops: train (optionally capped per class) and val, in manifest order. */
export function readCropsData(
  dir: string,
  o: { maxPerClass?: number; rarePerClass?: number; seed?: number } = {},
): CropsData {
  const cj = readJsonFile<ClassesJson>(path.join(dir, 'classes.json'), 'written by `detrlab crops`');
  if (!Array.isArray(cj.classes) || !Array.isArray(cj.rare))
    throw new UserError(`${path.join(dir, 'classes.json')} must hold "classes" and "rare" arrays`);
  const manifest = path.join(dir, 'manifest.jsonl');
  const samples = readCropManifest(dir).map((r, i): ClassifierSample & { split: string } => {
    const label = cj.classes.indexOf(r.class);
    if (label < 0 || r.label !== label)
      throw new UserError(
        `${manifest}:${i + 1}: class '${r.class}' with label ${r.label} does not match classes.json (${cj.classes.join(', ')})`,
      );
    if (r.split !== 'train' && r.split !== 'val')
      throw new UserError(`${manifest}:${i + 1}: split must be train or val, got ${JSON.stringify(r.split)}`);
    return {
      key: `real:${r.file}`,
      file: path.join(dir, r.file),
      label,
      class: r.class,
      source: 'real',
      split: r.split,
    };
  });
  const strip = (s: ClassifierSample & { split: string }): ClassifierSample => ({
    key: s.key,
    file: s.file,
    label: s.label,
    class: s.class,
    source: s.source,
  });
  const all = capPerClass(samples.filter((s) => s.split === 'train').map(strip), o.maxPerClass ?? 0, o.seed ?? 0);
  const rare = new Set(cj.rare);
  const rareCapped = capPerClass(
    all.filter((s) => rare.has(s.class)),
    o.rarePerClass ?? 0,
    o.seed ?? 0,
  );
  const keepRare = new Set(rareCapped.map((s) => s.key));
  const train = all.filter((s) => !rare.has(s.class) || keepRare.has(s.key));
  const val = samples.filter((s) => s.split === 'val').map(strip);
  if (!train.length || !val.length)
    throw new UserError(
      `${manifest} holds ${train.length} train and ${val.length} val crops; the classifier needs both`,
    );
  checkFilesExist([...train, ...val], manifest);
  return { dir, classes: cj.classes, rare: cj.rare, train, val };
}

/** True when the `models` field of a metadata record names detrlab's tiny random-weight test models. */
export const isTinyModels = (models: string): boolean =>
  models.startsWith('tiny-sd') || (fs.existsSync(models) && fs.existsSync(path.join(models, TINY_MARKER)));

/** The `note` of a model folder trained by `detrlab train-diffusion` (its detrlab_diffusion.json), else undefined. */
export function trainedModelNote(models: string): string | undefined {
  const f = path.join(models, 'detrlab_diffusion.json');
  if (!fs.existsSync(f)) return undefined;
  try {
    return (JSON.parse(fs.readFileSync(f, 'utf8')) as { note?: string }).note;
  } catch {
    return undefined;
  }
}

/** Synthetic images of the rare classes (metadata.jsonl order); other classes' images are counted and left out. */
export function readSynthData(dir: string, crops: Pick<CropsData, 'classes' | 'rare'>): SynthData {
  const file = path.join(dir, 'metadata.jsonl');
  if (!fs.existsSync(file)) throw new UserError(`${file} does not exist; run \`detrlab synth\` first`);
  const perClass: Record<string, number> = Object.fromEntries(crops.rare.map((c) => [c, 0]));
  const byModels = new Map<string, number>();
  const samples: ClassifierSample[] = [];
  let ignored = 0;
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let r: { file?: unknown; class?: unknown; models?: unknown };
      try {
        r = JSON.parse(line);
      } catch {
        throw new UserError(`${file}:${i + 1} is not valid JSON`);
      }
      if (typeof r.file !== 'string' || typeof r.class !== 'string')
        throw new UserError(`${file}:${i + 1}: "file" and "class" must be strings`);
      const label = crops.classes.indexOf(r.class);
      if (label < 0)
        throw new UserError(
          `${file}:${i + 1}: class '${r.class}' is not a class of the crops (${crops.classes.join(', ')})`,
        );
      if (!crops.rare.includes(r.class)) {
        ignored++;
        return;
      }
      samples.push({ key: `synth:${r.file}`, file: path.join(dir, r.file), label, class: r.class, source: 'synth' });
      perClass[r.class]++;
      const models = typeof r.models === 'string' ? r.models : 'unknown';
      byModels.set(models, (byModels.get(models) ?? 0) + 1);
    });
  checkFilesExist(samples, file);
  const provenance = [...byModels].map(([models, images]) => ({ models, images, tiny: isTinyModels(models) }));
  return { dir, samples, perClass, ignored, provenance };
}
