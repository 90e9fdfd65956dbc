/**
 * ControlNet-canny control images from real crops, as diffusers' docs make them (`pipeline_controlnet.py`:
 * VaeImageProcessor with do_normalize=False): the crop resized to the output size (sharp's lanczos3),
 * `cv2.Canny(rgb, low, high)` (canny.ts), edges repeated to 3 channels, as floats in [0, 1], NCHW. Edges
 * are found at the output resolution (diffusers runs Canny on the source image and then resizes the edge
 * map, which blurs thin lines when upscaling small crops).
 */
import * as fs from 'node:fs';
import sharp from 'sharp';
import { UserError } from '../params/user_error.js';
import { canny, CannyOptions } from './canny.js';
import { rgbBytesToNchw } from './tensor_ops.js';

export interface ControlImage {
  edges: Uint8Array;
  nchw: Float32Array;
  png: Buffer;
  size: number;
}

export async function controlFromCrop(file: string, size: number, o: CannyOptions): Promise<ControlImage> {
  if (!fs.existsSync(file)) throw new UserError(`crop ${file} does not exist (listed in the crops manifest)`);
  const { data, info } = await sharp(file)
    .removeAlpha()
    .toColourspace('srgb')
    .resize(size, size, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const edges = canny(
    { data: new Uint8Array(data), width: info.width, height: info.height, channels: info.channels },
    o,
  );
  const png = await sharp(Buffer.from(edges), { raw: { width: size, height: size, channels: 1 } })
    .png()
    .toBuffer();
  return { edges, nchw: rgbBytesToNchw(edges, size, size, 1), png, size };
}
