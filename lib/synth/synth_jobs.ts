/**
 * Which images a `detrlab synth` process makes: the job list (class × index), its shard, the per-image
 * seed and the source crop of each job. All are pure functions of the parameters, so shards, resumed runs
 * and fresh runs agree image by image.
 */
import { Rng, seedFrom } from '../engine/rng.js';
import { UserError } from '../params/user_error.js';
import { CropRecord } from '../crops/crop_dataset.js';
import { classDir } from '../crops/subset_reader.js';

export interface SynthJob {
  class: string;
  index: number;
  seed: number;
  crop: CropRecord;
  file: string;
  controlFile: string;
  recordFile: string;
}

/** `"i/n"` → [i, n] with 0 ≤ i < n. */
export function parseShard(s: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]))
    throw new UserError(`--shard must be i/n with 0 ≤ i < n (e.g. 0/4), got '${s}'`);
  return [Number(m[1]), Number(m[2])];
}

/** The image seed of (base seed, class, index): independent of the shard and of the order of work. */
export const imageSeed = (seed: number, className: string, index: number): number =>
  seedFrom('synth', seed, className, index);

/** Train crops of a class (val crops when it has no train crops), in a seeded order; crop of image i = order[i mod n]. */
export function cropsFor(className: string, manifest: CropRecord[], seed: number): CropRecord[] {
  let mine = manifest.filter((r) => r.class === className && r.split === 'train');
  if (mine.length === 0) mine = manifest.filter((r) => r.class === className);
  if (mine.length === 0)
    throw new UserError(
      `class '${className}' has no crops in the crops manifest; classes with crops: ${[...new Set(manifest.map((r) => r.class))].join(', ')}`,
    );
  const order = new Rng(seedFrom('synth-crop', seed, className)).permutation(mine.length);
  return order.map((i) => mine[i]);
}

export function planJobs(
  classes: string[],
  perClass: number,
  manifest: CropRecord[],
  seed: number,
  shard: [number, number],
): SynthJob[] {
  const jobs: SynthJob[] = [];
  let j = 0;
  for (const c of classes) {
    const crops = cropsFor(c, manifest, seed);
    for (let index = 0; index < perClass; index++, j++) {
      if (j % shard[1] !== shard[0]) continue;
      const dir = classDir(c);
      jobs.push({
        class: c,
        index,
        seed: imageSeed(seed, c, index),
        crop: crops[index % crops.length],
        file: `${dir}/${index}.png`,
        controlFile: `control/${dir}/${index}.png`,
        recordFile: `.records/${dir}/${index}.json`,
      });
    }
  }
  return jobs;
}
