/**
 * Fixtures for the model stages: a tiny subset root (images of three sizes rendered with sharp, boxes
 * inside the images, one crowd region, 3 classes with COCO ids 5, 9, 2 — deliberately not sorted, so a
 * label used as a category id would show) and a run folder with a tiny random DETR checkpoint.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { resolveDetr, DetrConfig } from '../../lib/detr/config.js';
import { DetrModel } from '../../lib/detr/model.js';
import { saveCheckpoint } from '../../lib/detr/weights.js';
import { Rng } from '../../lib/engine/rng.js';

export const CLASSES = ['kite', 'boat', 'bicycle'];
export const CATEGORY_IDS = [5, 9, 2];
const COLOURS = ['#d03030', '#30a030', '#3050d0'];
const SIZES: Array<[number, number]> = [
  [96, 64],
  [64, 96],
  [80, 80],
];

export interface FixtureBox {
  label: number;
  xywh: [number, number, number, number];
  crowd?: boolean;
}

/** Image i: size SIZES[i % 3]; two or three boxes placed from i (all inside the image). */
export function fixtureBoxes(i: number): FixtureBox[] {
  const [w, h] = SIZES[i % 3];
  const boxes: FixtureBox[] = [
    { label: i % 3, xywh: [4 + (i % 4) * 3, 6, Math.round(w / 3), Math.round(h / 3)] },
    { label: (i + 1) % 3, xywh: [Math.round(w / 2), Math.round(h / 2), Math.round(w / 3), Math.round(h / 4)] },
  ];
  if (i % 2 === 0) boxes.push({ label: 2, xywh: [Math.round(w / 2), 4, 14, 10] });
  if (i === 1) boxes.push({ label: 0, xywh: [2, h - 22, 30, 20], crowd: true });
  return boxes;
}

async function renderImage(file: string, w: number, h: number, boxes: FixtureBox[]): Promise<void> {
  const rects = boxes
    .map(
      (b) =>
        `<rect x="${b.xywh[0]}" y="${b.xywh[1]}" width="${b.xywh[2]}" height="${b.xywh[3]}" fill="${COLOURS[b.label]}"/>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="#8a8a8a"/>${rects}</svg>`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(svg)).png().toFile(file);
}

/** Writes a subset root with `nVal` val and 2 train images under a new temp folder; returns the root. */
export async function makeTinySubset(nVal = 6): Promise<string> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-eval-'));
  const root = path.join(base, 'subset');
  let annId = 1;
  for (const [split, n, first] of [
    ['val', nVal, 101],
    ['train', 2, 11],
  ] as const) {
    const coco = {
      images: [] as object[],
      annotations: [] as object[],
      categories: CLASSES.map((name, i) => ({ id: CATEGORY_IDS[i], name })),
    };
    for (let i = 0; i < n; i++) {
      const id = first + 2 * i,
        [w, h] = SIZES[i % 3],
        fileName = `${id}.png`,
        boxes = fixtureBoxes(i);
      await renderImage(path.join(base, 'images', split, fileName), w, h, boxes);
      coco.images.push({ id, file_name: fileName, width: w, height: h });
      for (const b of boxes)
        coco.annotations.push({
          id: annId++,
          image_id: id,
          category_id: CATEGORY_IDS[b.label],
          bbox: b.xywh,
          area: b.xywh[2] * b.xywh[3],
          iscrowd: b.crowd ? 1 : 0,
        });
    }
    fs.mkdirSync(path.join(root, 'annotations'), { recursive: true });
    fs.writeFileSync(path.join(root, 'annotations', `instances_${split}2017.json`), JSON.stringify(coco));
  }
  fs.writeFileSync(path.join(root, 'label_map.json'), JSON.stringify({ classes: CLASSES, categoryIds: CATEGORY_IDS }));
  fs.writeFileSync(
    path.join(root, 'subset.json'),
    JSON.stringify({
      cocoRoot: '..',
      imageDirs: { train: '../images/train', val: '../images/val' },
      classes: CLASSES,
      counts: {},
    }),
  );
  return root;
}

/** ResNet-18 at width 8, 3 stages, d_model 16, 1+1 layers, 6 queries. */
export const tinyDetr = (numClasses = CLASSES.length): DetrConfig =>
  resolveDetr(
    {
      numClasses,
      dModel: 16,
      nHeads: 2,
      encoderLayers: 1,
      decoderLayers: 1,
      ffnDim: 32,
      numQueries: 6,
      dropout: 0,
      backbone: { depth: 18, width: 8, numStages: 3, trainableFrom: 'all' },
    },
    'demo',
  );

/** A run folder with checkpoints/best holding a random tiny DETR (and config.json with the demo sizes). */
export function makeTinyRun(
  opts: { numClasses?: number; seed?: number; names?: string[]; categoryIds?: number[] } = {},
): string {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-run-'));
  const cfg = tinyDetr(opts.numClasses);
  const model = DetrModel.create(cfg, new Rng(opts.seed ?? 3));
  try {
    saveCheckpoint(path.join(run, 'checkpoints', 'best'), model.params, cfg, {
      names: opts.names ?? CLASSES.slice(0, cfg.numClasses),
      categoryIds: opts.categoryIds ?? CATEGORY_IDS.slice(0, cfg.numClasses),
    });
  } finally {
    model.dispose();
  }
  fs.writeFileSync(
    path.join(run, 'config.json'),
    JSON.stringify({ params: { augment: 'demo', valSize: 48, maxSize: 96 } }),
  );
  return run;
}
