/**
 * Pretrained weights from the Hugging Face hub, cached on disk:
 *   facebook/detr-resnet-50 → <endpoint>/facebook/detr-resnet-50/resolve/main/model.safetensors
 *                           → data/models/hf/facebook/detr-resnet-50/model.safetensors (+ config.json)
 * The download resumes (HTTP Range) and is atomic (`download`); a cached file is reused. The endpoint
 * is `https://huggingface.co` unless `endpoint` or the environment's `HF_ENDPOINT` names a mirror.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { download } from '../io/download.js';
import { UserError } from '../params/user_error.js';

export const HF_DEFAULT_ENDPOINT = 'https://huggingface.co';
export const HF_CACHE_ROOT = path.join('data', 'models', 'hf');

export interface HubOptions {
  /** Folder for this repo's files (default data/models/hf/<repo>/). */
  cacheDir?: string;
  /** Hub or mirror root (default: $HF_ENDPOINT, else https://huggingface.co). */
  endpoint?: string;
  revision?: string;
  quiet?: boolean;
}

export interface HubFiles {
  weights: string;
  config?: string;
  downloaded: boolean;
  resumed: boolean;
}

const REPO_RE = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function hubUrl(repo: string, file: string, o: Pick<HubOptions, 'endpoint' | 'revision'> = {}): string {
  if (!REPO_RE.test(repo) || repo.includes('..'))
    throw new UserError(`--model-name '${repo}' is not a hub repo id like facebook/detr-resnet-50`);
  const root = (o.endpoint ?? process.env.HF_ENDPOINT ?? HF_DEFAULT_ENDPOINT).replace(/\/+$/, '');
  return `${root}/${repo}/resolve/${encodeURIComponent(o.revision ?? 'main')}/${file}`;
}

/** Downloads (or reuses) `model.safetensors` and `config.json` of a hub repo. */
export async function fetchHubWeights(repo: string, o: HubOptions = {}): Promise<HubFiles> {
  const dir = o.cacheDir ?? path.join(HF_CACHE_ROOT, ...repo.split('/'));
  const weights = await download({
    url: hubUrl(repo, 'model.safetensors', o),
    dest: path.join(dir, 'model.safetensors'),
    label: `${repo} model.safetensors`,
    quiet: o.quiet,
  });
  let config: string | undefined;
  try {
    config = (
      await download({
        url: hubUrl(repo, 'config.json', o),
        dest: path.join(dir, 'config.json'),
        label: `${repo} config.json`,
        quiet: true,
        minFreeBytes: 0,
      })
    ).path;
  } catch {
    config = undefined; // optional: the architecture can be inferred from the tensor shapes
  }
  return { weights: weights.path, config, downloaded: !weights.skipped, resumed: weights.resumed };
}

/** A local `--weights` file (and the config.json beside it, if any). */
export function localWeights(file: string): HubFiles {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile())
    throw new UserError(`--weights '${file}' does not exist or is not a file`);
  const config = path.join(path.dirname(file), 'config.json');
  return { weights: file, config: fs.existsSync(config) ? config : undefined, downloaded: false, resumed: false };
}
