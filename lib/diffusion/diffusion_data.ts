/**
 * The training set of `detrlab train-diffusion`: every train crop of a crops folder (manifest.jsonl, any
 * number of classes), as RGB bytes at the model's image size, its canny control map (exactly as
 * `detrlab synth` makes it: lib/synth/control_image.ts) and its class. Held as bytes (S·S·3 + S·S per crop).
 */
import * as path from 'node:path';
import sharp from 'sharp';
import { readCropManifest } from '../crops/crop_viz.js';
import { UserError } from '../params/user_error.js';
import { controlFromCrop } from '../synth/control_image.js';
import { CannyOptions } from '../synth/canny.js';
import { progress } from '../viz/progress.js';

export interface DiffusionData {
  size: number;
  classes: string[];
  /** [N,S,S,3] RGB bytes. */
  rgb: Uint8Array;
  /** [N,S,S] canny edges (0 or 255). */
  edges: Uint8Array;
  labels: Int32Array;
  files: string[];
}

export async function loadDiffusionData(
  cropsDir: string,
  size: number,
  canny: CannyOptions,
  quiet = false,
): Promise<DiffusionData> {
  const recs = readCropManifest(cropsDir).filter((r) => r.split === 'train');
  if (recs.length === 0) throw new UserError(`${cropsDir}/manifest.jsonl has no train crops`);
  const classes = [...new Set(recs.map((r) => r.class))].sort();
  const n = recs.length,
    px = size * size;
  const rgb = new Uint8Array(n * px * 3),
    edges = new Uint8Array(n * px),
    labels = new Int32Array(n);
  const bar = progress({ total: n, label: 'load crops', unit: 'crop', quiet });
  const files = recs.map((r) => path.join(cropsDir, r.file));
  const batch = 64;
  for (let s = 0; s < n; s += batch) {
    await Promise.all(
      files.slice(s, s + batch).map(async (file, j) => {
        const i = s + j;
        const { data } = await sharp(file)
          .removeAlpha()
          .toColourspace('srgb')
          .resize(size, size, { fit: 'fill' })
          .raw()
          .toBuffer({ resolveWithObject: true });
        rgb.set(data, i * px * 3);
        edges.set((await controlFromCrop(file, size, canny)).edges, i * px);
        labels[i] = classes.indexOf(recs[i].class);
      }),
    );
    bar.tick(Math.min(batch, n - s));
  }
  bar.done();
  return { size, classes, rgb, edges, labels, files };
}

/** Pixels of sample i in [−1,1], NHWC, mirrored left–right when `flip`, written at `out[offset…]`. */
export function pixelsInto(d: DiffusionData, i: number, flip: boolean, out: Float32Array, offset: number): void {
  const s = d.size;
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++) {
      const src = (i * s * s + y * s + (flip ? s - 1 - x : x)) * 3,
        dst = offset + (y * s + x) * 3;
      for (let c = 0; c < 3; c++) out[dst + c] = d.rgb[src + c] / 127.5 - 1;
    }
}

/** Canny map of sample i as a control image in [0,1], NHWC with 3 equal channels. */
export function controlInto(d: DiffusionData, i: number, flip: boolean, out: Float32Array, offset: number): void {
  const s = d.size;
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++) {
      const v = d.edges[i * s * s + y * s + (flip ? s - 1 - x : x)] / 255,
        dst = offset + (y * s + x) * 3;
      out[dst] = v;
      out[dst + 1] = v;
      out[dst + 2] = v;
    }
}
