/**
 * `data/models/tiny-sd`: a complete model folder of tiny random-weight models in the layout
 * `resolveModelFolder` reads, written on first use (atomically: the folder appears whole or not at all).
 * `detrlab_tiny.json` marks it so every report can say plainly that these models made the images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { replaceDirAtomic, readJson } from '../../io/atomic.js';
import { clipVocab, mergesForWords, mergesTxt } from './tiny_tokenizer.js';
import {
  DEFAULT_TINY,
  TinyModelConfig,
  tinyControlNet,
  tinyTextEncoder,
  tinyUnet,
  tinyVaeDecoder,
} from './tiny_models.js';

export const TINY_MODEL_DIR = path.join('data', 'models', 'tiny-sd');
export const TINY_MARKER = 'detrlab_tiny.json';
/** Bump when the tiny models change, so old folders are rebuilt. */
export const TINY_VERSION = 2;

/** Words that get whole-word tokens in the tiny vocabulary: the prompt template and COCO's 80 names. */
export const TINY_WORDS = [
  'a',
  'photo',
  'of',
  'the',
  'high',
  'quality',
  'detailed',
  'realistic',
  'lighting',
  'blurry',
  'low',
  'resolution',
  'cartoon',
  'drawing',
  'text',
  'watermark',
  'deformed',
  'person',
  'bicycle',
  'car',
  'motorcycle',
  'airplane',
  'bus',
  'train',
  'truck',
  'boat',
  'traffic',
  'light',
  'fire',
  'hydrant',
  'stop',
  'sign',
  'parking',
  'meter',
  'bench',
  'bird',
  'cat',
  'dog',
  'horse',
  'sheep',
  'cow',
  'elephant',
  'bear',
  'zebra',
  'giraffe',
  'backpack',
  'umbrella',
  'handbag',
  'tie',
  'suitcase',
  'frisbee',
  'skis',
  'snowboard',
  'sports',
  'ball',
  'kite',
  'baseball',
  'bat',
  'glove',
  'skateboard',
  'surfboard',
  'tennis',
  'racket',
  'bottle',
  'wine',
  'glass',
  'cup',
  'fork',
  'knife',
  'spoon',
  'bowl',
  'banana',
  'apple',
  'sandwich',
  'orange',
  'broccoli',
  'carrot',
  'hot',
  'pizza',
  'donut',
  'cake',
  'chair',
  'couch',
  'potted',
  'plant',
  'bed',
  'dining',
  'table',
  'toilet',
  'tv',
  'laptop',
  'mouse',
  'remote',
  'keyboard',
  'cell',
  'phone',
  'microwave',
  'oven',
  'toaster',
  'sink',
  'refrigerator',
  'book',
  'clock',
  'vase',
  'scissors',
  'teddy',
  'hair',
  'drier',
  'toothbrush',
];

export interface TinyMarker {
  kind: 'tiny-sd';
  version: number;
  config: TinyModelConfig;
  note: string;
}

export const isTinyFolder = (dir: string): boolean => fs.existsSync(path.join(dir, TINY_MARKER));

/** Writes the tiny model folder unless an up-to-date one is there; returns its path. */
export function ensureTinyModels(dir = TINY_MODEL_DIR, overrides: Partial<TinyModelConfig> = {}): string {
  const marker = path.join(dir, TINY_MARKER);
  if (fs.existsSync(marker) && Object.keys(overrides).length === 0) {
    const m = readJson<TinyMarker>(marker);
    if (m.version === TINY_VERSION) return dir;
  }
  replaceDirAtomic(dir, (tmp) => writeTinyFolder(tmp, overrides));
  return dir;
}

/** Writes tokenizer + the four models into `dir` (which must exist). */
export function writeTinyFolder(dir: string, overrides: Partial<TinyModelConfig> = {}): TinyModelConfig {
  const merges = mergesForWords(TINY_WORDS);
  const vocab = clipVocab(merges);
  const cfg: TinyModelConfig = { ...DEFAULT_TINY, vocabSize: Object.keys(vocab).length, ...overrides };
  const put = (rel: string, data: string | Uint8Array) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
  };
  put('tokenizer/vocab.json', JSON.stringify(vocab));
  put('tokenizer/merges.txt', mergesTxt(merges));
  put(
    'tokenizer/special_tokens_map.json',
    JSON.stringify({
      bos_token: '<|startoftext|>',
      eos_token: '<|endoftext|>',
      unk_token: '<|endoftext|>',
      pad_token: '<|endoftext|>',
    }),
  );
  put('text_encoder/model.onnx', tinyTextEncoder(cfg));
  put('controlnet/model.onnx', tinyControlNet(cfg));
  put('unet/model.onnx', tinyUnet(cfg));
  put('vae_decoder/model.onnx', tinyVaeDecoder(cfg));
  const marker: TinyMarker = {
    kind: 'tiny-sd',
    version: TINY_VERSION,
    config: cfg,
    note: 'tiny random-weight models written by detrlab (lib/synth/tiny); their images test the pipeline, they are not Stable Diffusion output',
  };
  put(TINY_MARKER, JSON.stringify(marker, null, 2) + '\n');
  return cfg;
}
