/**
 * Tiny classifier fixtures generated in code (docs/data_layout.md "Crops" and "Synthetic images"):
 *  - a crops folder: four colour classes rendered with sharp (a coloured disc at a per-crop offset on grey),
 *    manifest.jsonl + classes.json with two rare classes
 *  - a synth folder: PNGs + metadata.jsonl (rare classes and one non-rare image that must be ignored)
 *  - a tiny DETR checkpoint (ResNet-18 at width 8, 3 stages) saved with saveCheckpoint
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { resolveDetr, DetrConfig } from '../../lib/detr/config.js';
import { DetrModel } from '../../lib/detr/model.js';
import { saveCheckpoint } from '../../lib/detr/weights.js';
import { Rng } from '../../lib/engine/rng.js';

export const CLASSES = ['red', 'green', 'blue', 'yellow'];
export const RARE = ['blue', 'yellow'];
export const TRAIN_COUNTS = [6, 5, 3, 2];
export const VAL_COUNTS = [2, 2, 2, 2];
const COLOURS = ['#e02020', '#20b020', '#2040e0', '#e0c020'];
export const CROP_SIZE = 24;

export const tmpDir = (tag: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `detrlab-classify-${tag}-`));

async function discPng(colour: string, size: number, offset: number): Promise<Buffer> {
  const r = size / 3,
    c = size / 2 + offset;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="${size}" height="${size}" fill="#808080"/><circle cx="${c}" cy="${size / 2}" r="${r}" fill="${colour}"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Writes a crops folder; returns its path. Annotation ids count up from 1 over train then val. */
export async function makeCropsFixture(dir = path.join(tmpDir('crops'), 'crops')): Promise<string> {
  const lines: string[] = [];
  let id = 1;
  for (const [split, counts] of [
    ['train', TRAIN_COUNTS],
    ['val', VAL_COUNTS],
  ] as const) {
    for (const [label, cls] of CLASSES.entries()) {
      for (let i = 0; i < counts[label]; i++, id++) {
        const file = `${split}/${cls}/${id}.png`;
        fs.mkdirSync(path.join(dir, split, cls), { recursive: true });
        fs.writeFileSync(path.join(dir, file), await discPng(COLOURS[label], CROP_SIZE, (i % 3) - 1));
        lines.push(
          JSON.stringify({
            file,
            split,
            class: cls,
            label,
            imageId: 100 + id,
            annotationId: id,
            bboxXywh: [0, 0, 10, 10],
            source: 'fixture.jpg',
          }),
        );
      }
    }
  }
  fs.writeFileSync(path.join(dir, 'manifest.jsonl'), lines.join('\n') + '\n');
  const counts = (c: number[]) => Object.fromEntries(CLASSES.map((n, i) => [n, c[i]]));
  fs.writeFileSync(
    path.join(dir, 'classes.json'),
    JSON.stringify({ classes: CLASSES, rare: RARE, counts: { train: counts(TRAIN_COUNTS), val: counts(VAL_COUNTS) } }),
  );
  return dir;
}

export const TINY_MODELS_LABEL = 'tiny-sd (random-weight test models made by detrlab, data/models/tiny-sd)';
/** Synthetic images per class in the fixture; `red` is not rare and must be ignored. */
export const SYNTH_COUNTS: Record<string, number> = { blue: 2, yellow: 3, red: 1 };

export async function makeSynthFixture(
  dir = path.join(tmpDir('synth'), 'synth'),
  models = TINY_MODELS_LABEL,
): Promise<string> {
  const lines: string[] = [];
  for (const [cls, n] of Object.entries(SYNTH_COUNTS)) {
    fs.mkdirSync(path.join(dir, cls), { recursive: true });
    for (let i = 0; i < n; i++) {
      fs.writeFileSync(path.join(dir, cls, `${i}.png`), await discPng(COLOURS[CLASSES.indexOf(cls)], 32, i));
      lines.push(
        JSON.stringify({
          file: `${cls}/${i}.png`,
          class: cls,
          prompt: `a photo of a ${cls}`,
          negativePrompt: '',
          seed: i,
          steps: 2,
          guidance: 7.5,
          scheduler: 'ddim',
          sourceCrop: 'x.png',
          controlImage: `control/${cls}/${i}.png`,
          models,
        }),
      );
    }
  }
  fs.writeFileSync(path.join(dir, 'metadata.jsonl'), lines.join('\n') + '\n');
  return dir;
}

/** ResNet-18 at width 8, stride 16, a 1+1-layer transformer: small enough to train in a test. */
export const TINY_DETR: DetrConfig = resolveDetr(
  {
    numClasses: 3,
    dModel: 16,
    nHeads: 2,
    encoderLayers: 1,
    decoderLayers: 1,
    ffnDim: 32,
    numQueries: 5,
    backbone: { depth: 18, width: 8, numStages: 3, trainableFrom: 'all' },
  },
  'demo',
);

/** Saves a randomly initialised tiny DETR (model.safetensors + config.json); returns the model (caller disposes) and the weights path. */
export function saveTinyDetr(dir = tmpDir('detr'), seed = 3): { model: DetrModel; weights: string } {
  const model = DetrModel.create(TINY_DETR, new Rng(seed));
  const { weights } = saveCheckpoint(dir, model.params, TINY_DETR, { names: ['a', 'b', 'c'] });
  return { model, weights };
}
