/**
 * The DETR model configuration: one interface, documented defaults, presets and a validating `resolve`.
 * `DEFAULT_DETR` is exactly `facebook/detr-resnet-50` (Hugging Face `DetrConfig` defaults + its
 * config.json: 91 labels, so the class head has 92 outputs with index 91 = no-object).
 */
import type { BackboneConfig } from './backbone.js';
import { UserError } from '../params/user_error.js';

/** Hungarian matching cost weights (facebookresearch/detr `HungarianMatcher`). */
export interface MatcherConfig {
  classCost: number;
  bboxCost: number;
  giouCost: number;
}
/** Set-loss weights (`weight_dict`) and the no-object class weight (`eos_coef`). */
export interface LossConfig {
  ceWeight: number;
  bboxWeight: number;
  giouWeight: number;
  eosCoef: number;
}

export interface DetrConfig {
  /** K real classes; the class head has K+1 outputs, the last (index K) = no-object. */
  numClasses: number;
  /** Transformer width d_model (256). Must divide by 4 (sine embedding: half for y, half for x, sin/cos pairs) and by nHeads. */
  dModel: number;
  /** Attention heads in every attention block (8). */
  nHeads: number;
  encoderLayers: number;
  decoderLayers: number;
  /** Hidden width of each feed-forward block (2048). */
  ffnDim: number;
  /** Learned object queries (100). */
  numQueries: number;
  /** Dropout on residual branches, training only (0.1). */
  dropout: number;
  /** Dropout on attention weights (HF 0.0; the original repo used 0.1). */
  attentionDropout: number;
  /** Dropout after the FFN ReLU (HF 0.0; the original repo used 0.1). */
  activationDropout: number;
  backbone: BackboneConfig;
  /** Losses on every decoder layer's output (original DETR default true; HF default false). */
  auxLoss: boolean;
  /** Std of the normal init of a re-initialised class head (HF `init_std` 0.02). */
  initStd: number;
  matcher: MatcherConfig;
  loss: LossConfig;
}

export const DEFAULT_MATCHER: MatcherConfig = { classCost: 1, bboxCost: 5, giouCost: 2 };
export const DEFAULT_LOSS: LossConfig = { ceWeight: 1, bboxWeight: 5, giouWeight: 2, eosCoef: 0.1 };

/** `facebook/detr-resnet-50`. */
export const DEFAULT_DETR: DetrConfig = {
  numClasses: 91,
  dModel: 256,
  nHeads: 8,
  encoderLayers: 6,
  decoderLayers: 6,
  ffnDim: 2048,
  numQueries: 100,
  dropout: 0.1,
  attentionDropout: 0,
  activationDropout: 0,
  backbone: { depth: 50, width: 64, numStages: 4, trainableFrom: 'layer2' },
  auxLoss: true,
  initStd: 0.02,
  matcher: DEFAULT_MATCHER,
  loss: DEFAULT_LOSS,
};

/**
 * A small variant that trains on 2 CPU cores: ResNet-18 at half width with 3 stages (stride 16,
 * 128 channels), d_model 128, 2+2 layers, 4 heads, FFN 512, 25 queries. Same code paths.
 */
export const DEMO_DETR: DetrConfig = {
  ...DEFAULT_DETR,
  dModel: 128,
  nHeads: 4,
  encoderLayers: 2,
  decoderLayers: 2,
  ffnDim: 512,
  numQueries: 25,
  backbone: { depth: 18, width: 32, numStages: 3, trainableFrom: 'all' },
};

export const DETR_PRESETS = { 'detr-resnet-50': DEFAULT_DETR, demo: DEMO_DETR } as const;
export type DetrPreset = keyof typeof DETR_PRESETS;

export type DetrOverrides = Partial<Omit<DetrConfig, 'backbone' | 'matcher' | 'loss'>> & {
  backbone?: Partial<BackboneConfig>;
  matcher?: Partial<MatcherConfig>;
  loss?: Partial<LossConfig>;
};

/** A copy without the keys whose value is undefined (so `{ ...partial }` never erases a default). */
const defined = <T extends object>(o: T | undefined): Partial<T> =>
  Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;

/** Preset ← overrides (nested objects merged, undefined values ignored), validated. */
export function resolveDetr(overrides: DetrOverrides = {}, preset: DetrPreset = 'detr-resnet-50'): DetrConfig {
  const base = DETR_PRESETS[preset];
  if (!base) throw new UserError(`unknown DETR preset '${preset}'; choose ${Object.keys(DETR_PRESETS).join(', ')}`);
  return validateDetr({
    ...base,
    ...defined(overrides),
    backbone: { ...base.backbone, ...defined(overrides.backbone) },
    matcher: { ...base.matcher, ...defined(overrides.matcher) },
    loss: { ...base.loss, ...defined(overrides.loss) },
  } as DetrConfig);
}

function checkInt(name: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
    throw new UserError(`DETR config: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
}
function checkNum(name: string, v: unknown, min: number, max = Infinity, maxOpen = false): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (maxOpen && v === max)) {
    throw new UserError(
      `DETR config: ${name} must be a number in [${min}, ${max}${maxOpen ? ')' : ']'}, got ${JSON.stringify(v)}`,
    );
  }
}

/** Throws a UserError naming the first invalid field; returns the config unchanged. */
export function validateDetr(c: DetrConfig): DetrConfig {
  checkInt('numClasses', c.numClasses, 1);
  checkInt('dModel', c.dModel, 4);
  checkInt('nHeads', c.nHeads, 1);
  if (c.dModel % 4 !== 0)
    throw new UserError(`DETR config: dModel must be a multiple of 4 (sine position embedding), got ${c.dModel}`);
  if (c.dModel % c.nHeads !== 0)
    throw new UserError(`DETR config: dModel ${c.dModel} is not divisible by nHeads ${c.nHeads}`);
  checkInt('encoderLayers', c.encoderLayers, 0);
  checkInt('decoderLayers', c.decoderLayers, 1);
  checkInt('ffnDim', c.ffnDim, 1);
  checkInt('numQueries', c.numQueries, 1);
  for (const k of ['dropout', 'attentionDropout', 'activationDropout'] as const) checkNum(k, c[k], 0, 1, true);
  checkNum('initStd', c.initStd, 0);
  if (typeof c.auxLoss !== 'boolean')
    throw new UserError(`DETR config: auxLoss must be true or false, got ${JSON.stringify(c.auxLoss)}`);
  const b = c.backbone;
  if (![18, 34, 50, 101].includes(b.depth))
    throw new UserError(`DETR config: backbone.depth must be 18, 34, 50 or 101, got ${JSON.stringify(b.depth)}`);
  checkInt('backbone.width', b.width, 1);
  if (b.numStages !== 3 && b.numStages !== 4)
    throw new UserError(`DETR config: backbone.numStages must be 3 or 4, got ${JSON.stringify(b.numStages)}`);
  if (!['layer2', 'all', 'none'].includes(b.trainableFrom))
    throw new UserError(
      `DETR config: backbone.trainableFrom must be layer2, all or none, got ${JSON.stringify(b.trainableFrom)}`,
    );
  for (const [k, v] of Object.entries(c.matcher)) checkNum(`matcher.${k}`, v, 0);
  for (const [k, v] of Object.entries(c.loss)) checkNum(`loss.${k}`, v, 0);
  return c;
}
