/**
 * A small subset root generated in code (docs/data_layout.md "A subset root"): images rendered with sharp
 * (coloured rectangles on grey), COCO-format annotations with crowd and tiny boxes, label_map.json and
 * subset.json. Class counts are chosen so that rarity is known: train boxes ≥ minSize 8 per class are
 * circle 6, square 4, triangle 2, star 1 (val: 2, 2, 2, 3).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

export const FIXTURE_CLASSES = ['circle', 'square', 'triangle', 'star'];
export const FIXTURE_CATEGORY_IDS = [3, 7, 11, 20];
export const FIXTURE_TRAIN_CROPS = { circle: 6, square: 4, triangle: 2, star: 1 } as Record<string, number>;
const COLOURS = ['#d03030', '#30a030', '#3050d0', '#d0a020'];

interface Box {
  cls: number;
  xywh: [number, number, number, number];
  crowd?: 1;
}

/** Boxes per image: enough croppable boxes per class, plus one crowd and one 4-px box that must not count. */
function layout(split: 'train' | 'val'): Box[][] {
  const want = split === 'train' ? [6, 4, 2, 1] : [2, 2, 2, 2];
  const boxes: Box[] = [];
  want.forEach((n, cls) => {
    for (let i = 0; i < n; i++) boxes.push({ cls, xywh: [4 + (i % 3) * 26, 6 + cls * 14, 18 + i, 10 + (i % 2) * 4] });
  });
  const images: Box[][] = [];
  for (let i = 0; i < boxes.length; i += 4) images.push(boxes.slice(i, i + 4));
  images[0].push({ cls: 0, xywh: [60, 40, 30, 20], crowd: 1 }, { cls: 1, xywh: [2, 2, 4, 4] });
  images[images.length - 1].push({ cls: 3, xywh: [80, 50, 40, 30] }); // a box reaching past the 100×72 image edge
  if (split === 'train') images[images.length - 1].pop();
  return images;
}

async function renderImage(file: string, boxes: Box[]): Promise<void> {
  const rects = boxes
    .map(
      (b) =>
        `<rect x="${b.xywh[0]}" y="${b.xywh[1]}" width="${b.xywh[2]}" height="${b.xywh[3]}" fill="${COLOURS[b.cls]}"/>`,
    )
    .join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="100" height="72"><rect width="100" height="72" fill="#909090"/>${rects}</svg>`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(Buffer.from(svg)).jpeg({ quality: 95 }).toFile(file);
}

/** Writes the fixture under a new temp folder; returns the subset root. */
export async function makeFixtureSubset(): Promise<string> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-subset-'));
  const root = path.join(base, 'subset');
  fs.mkdirSync(path.join(root, 'annotations'), { recursive: true });
  let annId = 1;
  for (const split of ['train', 'val'] as const) {
    const images = layout(split);
    const coco = {
      images: [] as object[],
      annotations: [] as object[],
      categories: FIXTURE_CLASSES.map((name, i) => ({ id: FIXTURE_CATEGORY_IDS[i], name })),
    };
    for (const [i, boxes] of images.entries()) {
      const id = (split === 'train' ? 1000 : 2000) + i;
      const fileName = `${String(id).padStart(12, '0')}.jpg`;
      await renderImage(path.join(base, 'coco', 'images', `${split}2017`, fileName), boxes);
      coco.images.push({ id, file_name: fileName, width: 100, height: 72 });
      for (const b of boxes)
        coco.annotations.push({
          id: annId++,
          image_id: id,
          category_id: FIXTURE_CATEGORY_IDS[b.cls],
          bbox: b.xywh,
          area: b.xywh[2] * b.xywh[3],
          iscrowd: b.crowd ?? 0,
        });
    }
    fs.writeFileSync(path.join(root, 'annotations', `instances_${split}2017.json`), JSON.stringify(coco));
  }
  fs.writeFileSync(
    path.join(root, 'label_map.json'),
    JSON.stringify({ classes: FIXTURE_CLASSES, categoryIds: FIXTURE_CATEGORY_IDS }),
  );
  fs.writeFileSync(
    path.join(root, 'subset.json'),
    JSON.stringify({
      cocoRoot: '../coco',
      imageDirs: { train: '../coco/images/train2017', val: '../coco/images/val2017' },
      classes: FIXTURE_CLASSES,
      counts: {},
    }),
  );
  return root;
}
