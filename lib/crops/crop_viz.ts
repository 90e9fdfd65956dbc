/** Views of a crops folder for notebook 07. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../params/user_error.js';
import { CropRecord } from './crop_dataset.js';
import { imageGrid } from './image_grid.js';
import { Split } from './subset_reader.js';

export function readCropManifest(cropsDir: string): CropRecord[] {
  const file = path.join(cropsDir, 'manifest.jsonl');
  if (!fs.existsSync(file)) throw new UserError(`${file} does not exist; run \`detrlab crops\` first`);
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as CropRecord;
      } catch {
        throw new UserError(`${file}:${i + 1} is not valid JSON`);
      }
    });
}

/** A grid with one row per class (default: every class in the manifest) of its first `perClass` crops. */
export async function cropGrid(
  cropsDir: string,
  o: { classes?: string[]; perClass?: number; split?: Split; cell?: number } = {},
): Promise<Buffer> {
  const recs = readCropManifest(cropsDir).filter((r) => r.split === (o.split ?? 'train'));
  const classes =
    o.classes ??
    [...new Map(recs.map((r) => [r.label, r.class])).entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
  const rows = classes.map((c) => {
    const mine = recs.filter((r) => r.class === c);
    return {
      label: `${c} (${mine.length})`,
      images: mine.slice(0, o.perClass ?? 8).map((r) => path.join(cropsDir, r.file)),
    };
  });
  return imageGrid(rows, { cell: o.cell ?? 64 });
}
