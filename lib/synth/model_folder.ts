/**
 * Where the four models and the tokenizer of a model folder are. Default layout (relative to the folder):
 *   text_encoder/model.onnx  controlnet/model.onnx  unet/model.onnx  vae_decoder/model.onnx  tokenizer/{vocab.json,merges.txt}
 * An optional `detrlab_models.json` in the folder overrides any of them (paths relative to the folder),
 * e.g. for TensorStack's layout, whose ControlNet-enabled UNet is `controlnet/model.onnx`:
 *   { "unet": "controlnet/model.onnx", "controlnet": "../ControlNet-onnx/SD/Canny/model.onnx" }
 * See lib/synth/MODELS.md for the supported exports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../params/user_error.js';
import { readJson } from '../io/atomic.js';
import { isTinyFolder, TINY_MARKER, TinyMarker } from './tiny/tiny_folder.js';
import { readJsonFile } from '../io/json_file.js';

export interface ModelFiles {
  dir: string;
  textEncoder: string;
  controlnet: string;
  unet: string;
  vaeDecoder: string;
  tokenizer: string;
  /** True for detrlab's tiny random-weight models. */
  tiny: boolean;
  /** What produced the images, for metadata and reports ("tiny-sd (…)" or the folder path). */
  label: string;
  /** The image side the models were made for: tiny-sd's trained size, 128 for the random test models, 512 (SD 1.5) otherwise. */
  nativeSize: number;
  /** Changes when the models change (tiny: their version; real: the model files' sizes), to keep one output folder to one model set. */
  fingerprint: string;
}

const DEFAULTS = {
  textEncoder: 'text_encoder/model.onnx',
  controlnet: 'controlnet/model.onnx',
  unet: 'unet/model.onnx',
  vaeDecoder: 'vae_decoder/model.onnx',
  tokenizer: 'tokenizer',
};
type Role = keyof typeof DEFAULTS;

/** A folder as reports show it: relative to the working directory (the project root) when inside it. */
function shown(dir: string): string {
  const rel = path.relative(process.cwd(), path.resolve(dir));
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.resolve(dir);
}

/** The image size a detrlab-trained folder (detrlab_diffusion.json, `detrlab train-diffusion`) was trained at. */
function trainedSize(dir: string): number | undefined {
  const f = path.join(dir, 'detrlab_diffusion.json');
  if (!fs.existsSync(f)) return undefined;
  const size = readJsonFile<{ config?: { imageSize?: unknown } }>(f, { what: 'tiny-sd description' }).config?.imageSize;
  return typeof size === 'number' && size > 0 ? size : undefined;
}

export function resolveModelFolder(dir: string): ModelFiles {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`model folder ${dir} does not exist`);
  const mapFile = path.join(dir, 'detrlab_models.json');
  let overrides: Partial<Record<Role, string>> = {};
  if (fs.existsSync(mapFile)) {
    overrides = readJsonFile<typeof overrides>(mapFile, { what: 'role → file overrides' });
    const unknown = Object.keys(overrides).filter((k) => !(k in DEFAULTS));
    if (unknown.length)
      throw new UserError(`${mapFile}: unknown keys ${unknown.join(', ')}; valid: ${Object.keys(DEFAULTS).join(', ')}`);
  }
  const files = {} as Record<Role, string>;
  const missing: string[] = [];
  for (const role of Object.keys(DEFAULTS) as Role[]) {
    files[role] = path.resolve(dir, overrides[role] ?? DEFAULTS[role]);
    if (!fs.existsSync(files[role])) missing.push(`${role}: ${files[role]}`);
  }
  if (missing.length) {
    throw new UserError(
      `model folder ${dir} is incomplete; missing ${missing.join('; ')}. See lib/synth/MODELS.md for the layout (or detrlab_models.json to point at other paths)`,
    );
  }
  const tiny = isTinyFolder(dir);
  const fingerprint = tiny
    ? `tiny-sd v${readJson<TinyMarker>(path.join(dir, TINY_MARKER)).version}`
    : (['textEncoder', 'controlnet', 'unet', 'vaeDecoder'] as const)
        .map((r) => `${r}:${fs.statSync(files[r]).size}`)
        .join(' ');
  return {
    dir,
    ...files,
    tiny,
    fingerprint,
    label: tiny ? `tiny-sd (random-weight test models made by detrlab, ${shown(dir)})` : shown(dir),
    nativeSize: tiny ? 128 : (trainedSize(dir) ?? 512),
  };
}
