// The dataset reader refuses malformed ground truth the way coco-eval does (same checks, same wording),
// and warns when label_map.json and the annotation file disagree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadDetectionSplit } from '../../lib/data/dataset.js';
import { validateDataset } from '../../lib/coco/types.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-dataset-'));
let n = 0;

const gt = () => ({
  images: [
    { id: 1, file_name: 'a.jpg', width: 100, height: 80 },
    { id: 2, file_name: 'b.jpg', width: 50, height: 50 },
  ],
  annotations: [
    { id: 1, image_id: 1, category_id: 3, bbox: [10, 10, 20, 20], area: 400, iscrowd: 0 },
    { id: 2, image_id: 2, category_id: 5, bbox: [0, 0, 5, 5], area: 25, iscrowd: 0 },
  ],
  categories: [
    { id: 3, name: 'car' },
    { id: 5, name: 'bus' },
  ],
});

function root(data: unknown, labelMap?: unknown): string {
  const r = path.join(tmp, `r${n++}`);
  fs.mkdirSync(path.join(r, 'annotations'), { recursive: true });
  fs.writeFileSync(path.join(r, 'annotations', 'instances_val2017.json'), JSON.stringify(data));
  if (labelMap) {
    fs.writeFileSync(path.join(r, 'label_map.json'), JSON.stringify(labelMap));
    fs.writeFileSync(path.join(r, 'subset.json'), JSON.stringify({ imageDirs: { val: 'images' } }));
  }
  return r;
}

/** The message coco-eval's reader gives for the same data, with its file prefix. */
function cocoEvalMessage(data: unknown, file: string): string {
  try {
    validateDataset(data, file);
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
}

test('a well-formed split loads', async () => {
  const s = await loadDetectionSplit(root(gt()), 'val');
  assert.deepEqual(
    s.records.map((r) => r.labels),
    [[0], [1]],
  );
});

test('annotations without a bbox, with 3 numbers, or with NaN are refused, naming the file and the record, as coco-eval does', async () => {
  const cases: Array<[(d: ReturnType<typeof gt>) => void, RegExp]> = [
    [
      (d) => {
        delete (d.annotations[1] as Partial<(typeof d.annotations)[0]>).bbox;
      },
      /annotations\[1\]\.bbox must be \[x, y, w, h\] \(4 numbers\), got missing$/,
    ],
    [
      (d) => {
        d.annotations[0].bbox = [1, 2, 3];
      },
      /annotations\[0\]\.bbox must be \[x, y, w, h\] \(4 numbers\), got an array of length 3$/,
    ],
    [
      (d) => {
        (d.annotations[0].bbox as unknown[])[2] = 'NaN';
      },
      /annotations\[0\]\.bbox\[2\] is NaN \(not a finite number\)$/,
    ],
    [
      (d) => {
        (d.annotations[1] as Record<string, unknown>).category_id = null;
      },
      /annotations\[1\]\.category_id must be a number, got null$/,
    ],
  ];
  for (const [spoil, re] of cases) {
    const d = gt();
    spoil(d);
    const r = root(d);
    const file = path.join(r, 'annotations', 'instances_val2017.json');
    await assert.rejects(
      loadDetectionSplit(r, 'val'),
      (e: Error) => e.name === 'UserError' && e.message.startsWith(`${file}: annotations[`) && re.test(e.message),
    );
    assert.match(cocoEvalMessage(d, file), re, 'coco-eval refuses the same record with the same words');
  }
});

test('image records need a file name and a positive size', async () => {
  const d = gt();
  (d.images[1] as Record<string, unknown>).width = 0;
  await assert.rejects(loadDetectionSplit(root(d), 'val'), /images\[1\]\.width must be positive, got 0/);
  const e = gt();
  delete (e.images[0] as Partial<(typeof e.images)[0]>).file_name;
  await assert.rejects(loadDetectionSplit(root(e), 'val'), /images\[0\]\.file_name must be a file name/);
});

test('label_map.json: malformed is refused; categories it lacks or the file lacks are warned about', async () => {
  await assert.rejects(
    loadDetectionSplit(root(gt(), { classes: ['car'], categoryIds: [3, 5] }), 'val'),
    /label_map\.json must hold "classes" \(names\) and "categoryIds"/,
  );
  const warn = console.warn;
  const warned: string[] = [];
  console.warn = (s: string) => {
    warned.push(s);
  };
  try {
    const s = await loadDetectionSplit(root(gt(), { classes: ['car', 'truck'], categoryIds: [3, 8] }), 'val');
    assert.deepEqual(
      s.records.map((r) => r.labels),
      [[0], []],
    );
  } finally {
    console.warn = warn;
  }
  assert.match(warned.join('\n'), /label_map\.json lists categories 8 \(truck\) that .* does not define/);
  assert.match(
    warned.join('\n'),
    /1 annotations in .* have categories missing from label_map\.json \(ids 5\); they are ignored/,
  );
});
