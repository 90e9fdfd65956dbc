/**
 * Decoded images and ready batches for the classifier.
 *  - `ImageCache`: decodes with sharp (lib/data/decode.ts: EXIF, any colour space → 8-bit RGB) in libuv's
 *    thread pool and keeps the pixels while under a byte budget; concurrent requests share one decode.
 *  - `batchStream`: yields batches in the order given and starts decoding the next batch before the current
 *    one is handed out, so decoding runs on other cores while the model trains on this one.
 */
import { decodeRgb, DecodeError } from '../data/decode.js';
import type { RgbImage } from '../data/types.js';
import { Rng, seedFrom } from '../engine/rng.js';
import { UserError } from '../params/user_error.js';
import { CropAugmentConfig, drawAugment, normaliseInto, trainPixels, valPixels } from './crop_augment.js';
import type { ClassifierSample } from './crop_samples.js';

export class ImageCache {
  private readonly done = new Map<string, RgbImage>();
  private readonly pending = new Map<string, Promise<RgbImage>>();
  private bytes = 0;

  constructor(private readonly budgetBytes: number) {}

  get(file: string): Promise<RgbImage> {
    const hit = this.done.get(file);
    if (hit) return Promise.resolve(hit);
    let p = this.pending.get(file);
    if (!p) {
      p = decodeRgb(file).then(
        (im) => {
          this.pending.delete(file);
          if (this.bytes + im.data.length <= this.budgetBytes) {
            this.done.set(file, im);
            this.bytes += im.data.length;
          }
          return { data: im.data, width: im.width, height: im.height };
        },
        (e: unknown) => {
          this.pending.delete(file);
          throw e instanceof DecodeError ? new UserError(`cannot read training image ${e.message}`) : e;
        },
      );
      this.pending.set(file, p);
    }
    return p;
  }

  get cachedImages(): number {
    return this.done.size;
  }
  get cachedBytes(): number {
    return this.bytes;
  }
}

/** Dims: B batch, S image side. */
export interface PixelBatch {
  /** ImageNet-normalised pixels [B, S, S, 3], row-major. */
  pixels: Float32Array;
  labels: Int32Array;
  samples: ClassifierSample[];
  size: number;
}

/** Augmentation randomness of one sample in one epoch: independent of the batch it lands in. */
export const augmentRng = (seed: number, epoch: number, key: string): Rng =>
  new Rng(seedFrom('classify-augment', seed, epoch, key));

export interface BatchMode {
  train: boolean;
  aug: CropAugmentConfig;
  seed: number;
  epoch: number;
}

export async function makeBatch(cache: ImageCache, samples: ClassifierSample[], m: BatchMode): Promise<PixelBatch> {
  const s = m.aug.imageSize,
    per = s * s * 3;
  const images = await Promise.all(samples.map((x) => cache.get(x.file)));
  const pixels = new Float32Array(samples.length * per);
  images.forEach((im, i) => {
    const px = m.train
      ? trainPixels(im, drawAugment(augmentRng(m.seed, m.epoch, samples[i].key), im.width, im.height, m.aug), s)
      : valPixels(im, s);
    normaliseInto(px, pixels, i * per);
  });
  return { pixels, labels: Int32Array.from(samples.map((x) => x.label)), samples, size: s };
}

/** Batches in order, the next one prepared while the caller works on the current one. */
export async function* batchStream(
  cache: ImageCache,
  batches: ClassifierSample[][],
  m: BatchMode,
): AsyncGenerator<PixelBatch> {
  const start = (i: number) => {
    const p = makeBatch(cache, batches[i], m);
    p.catch(() => undefined); // a consumer that stops early must not leave an unhandled rejection
    return p;
  };
  let next = batches.length ? start(0) : undefined;
  for (let i = 0; i < batches.length; i++) {
    const cur = await next!;
    next = i + 1 < batches.length ? start(i + 1) : undefined;
    yield cur;
  }
}
