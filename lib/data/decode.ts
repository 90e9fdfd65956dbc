/**
 * Image files → 8-bit RGB with sharp: EXIF orientation, any colour space (grey, CMYK, 16-bit) → sRGB,
 * alpha dropped (as PIL's `convert('RGB')`, which DETR's loaders use).
 *
 * EXIF orientation is applied unless the annotation's width/height match the stored (unrotated) pixels
 * and not the rotated ones: COCO's annotations were made on the pixels as stored, and a box is only
 * right on the pixels it was drawn on. With `expected` given, any other size mismatch is an error.
 */
import * as fs from 'node:fs';
import sharp from 'sharp';
import { RgbImage } from './types.js';

export class DecodeError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'DecodeError';
  }
}

export interface DecodeResult extends RgbImage {
  exifApplied: boolean;
}

export async function decodeRgb(file: string, expected?: { width: number; height: number }): Promise<DecodeResult> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(file, { failOn: 'error' }).metadata();
  } catch (e) {
    throw new DecodeError(
      file,
      // Asked of the file system, not read from sharp's message: libvips keeps one error buffer for all
      // threads, so with images decoded concurrently a missing file can come back with another file's
      // "unsupported image format" (seen in CI).
      !fs.existsSync(file) ? 'file not found' : `unreadable image (${(e as Error).message})`,
    );
  }
  const [sw, sh] = [meta.width ?? 0, meta.height ?? 0];
  const o = meta.orientation ?? 1;
  const [rw, rh] = o >= 5 ? [sh, sw] : [sw, sh];
  let exif = o > 1;
  if (
    exif &&
    expected &&
    !(rw === expected.width && rh === expected.height) &&
    sw === expected.width &&
    sh === expected.height
  )
    exif = false;
  try {
    let img = sharp(file, { failOn: 'error' });
    if (exif) img = img.rotate();
    const { data, info } = await img
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    if (expected && (info.width !== expected.width || info.height !== expected.height)) {
      throw new DecodeError(
        file,
        `is ${info.width}×${info.height} but the annotations say ${expected.width}×${expected.height}`,
      );
    }
    return { data, width: info.width, height: info.height, exifApplied: exif };
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(file, `corrupt or unsupported image (${(e as Error).message})`);
  }
}
