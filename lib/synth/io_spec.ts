/**
 * The I/O layouts the pipeline drives, by model role (diffusers `convert_stable_diffusion_checkpoint_to_onnx.py`,
 * optimum `model_configs.py`, OnnxStack `Converter/ControlNet/models.py`): names, element types and ranks
 * of the SD 1.5 exports (diffusers script, optimum) and of the OnnxStack-style ControlNet pair. A session
 * is checked against its role's layout when it opens, and a mismatch is a UserError naming the model
 * file, the tensor and what differs.
 */
import { UserError } from '../params/user_error.js';

export type ElemType = 'float32' | 'float16' | 'int32' | 'int64' | 'float64';
export const FLOATS: ElemType[] = ['float32', 'float16'];

export interface TensorSpec {
  name: string;
  types: ElemType[];
  ranks: number[];
  optional?: boolean;
}
export interface ModelSpec {
  role: ModelRole;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}
export type ModelRole = 'text_encoder' | 'unet' | 'controlnet' | 'vae_decoder';

/** What a session reports about one input or output. Rank −1 = unknown. */
export interface TensorMeta {
  name: string;
  type: string;
  shape: ReadonlyArray<number | string>;
}

export const RESIDUAL_NAMES = [
  ...Array.from({ length: 12 }, (_, i) => `down_block_${i}_additional_residual`),
  'mid_block_additional_residual',
];
const TIMESTEP: TensorSpec = {
  name: 'timestep',
  types: ['float32', 'float16', 'int64', 'int32', 'float64'],
  ranks: [0, 1],
};
const latent = (name: string): TensorSpec => ({ name, types: FLOATS, ranks: [4] });
const residuals = (): TensorSpec[] => RESIDUAL_NAMES.map((n) => latent(n));

export const MODEL_SPECS: Record<ModelRole, ModelSpec> = {
  text_encoder: {
    role: 'text_encoder',
    inputs: [{ name: 'input_ids', types: ['int32', 'int64'], ranks: [2] }],
    outputs: [{ name: 'last_hidden_state', types: FLOATS, ranks: [3] }],
  },
  unet: {
    role: 'unet',
    inputs: [latent('sample'), TIMESTEP, { name: 'encoder_hidden_states', types: FLOATS, ranks: [3] }, ...residuals()],
    outputs: [latent('out_sample')],
  },
  controlnet: {
    role: 'controlnet',
    inputs: [
      latent('sample'),
      TIMESTEP,
      { name: 'encoder_hidden_states', types: FLOATS, ranks: [3] },
      latent('controlnet_cond'),
      { name: 'conditioning_scale', types: ['float64', 'float32', 'float16'], ranks: [0, 1], optional: true },
    ],
    outputs: residuals(),
  },
  vae_decoder: { role: 'vae_decoder', inputs: [latent('latent_sample')], outputs: [latent('sample')] },
};

const HINTS: Partial<Record<ModelRole, string>> = {
  unet: 'the UNet must take the ControlNet residuals as inputs (an OnnxStack-style "ControlNet UNet"; TensorStack ships it as controlnet/model.onnx of stable-diffusion-v1-5-onnx). See lib/synth/MODELS.md',
  controlnet:
    'expected an OnnxStack-style ControlNet (TensorStack/ControlNet-onnx SD/Canny/model.onnx). See lib/synth/MODELS.md',
};

/** Checks a session's inputs/outputs against a role's layout; throws a UserError naming every mismatch. */
export function checkModelIo(spec: ModelSpec, where: string, inputs: TensorMeta[], outputs: TensorMeta[]): void {
  const problems = [
    ...checkSide('input', spec.inputs, inputs, true),
    ...checkSide('output', spec.outputs, outputs, false),
  ];
  if (problems.length === 0) return;
  const list = (ms: TensorMeta[]) => ms.map((m) => `${m.name}:${m.type}[${m.shape.join(',')}]`).join(', ');
  throw new UserError(
    `${where} does not have the ${spec.role} layout: ${problems.join('; ')}.\n` +
      `  model inputs:  ${list(inputs)}\n  model outputs: ${list(outputs)}` +
      (HINTS[spec.role] ? `\n  (${HINTS[spec.role]})` : ''),
  );
}

function checkSide(side: 'input' | 'output', specs: TensorSpec[], metas: TensorMeta[], strictExtra: boolean): string[] {
  const problems: string[] = [];
  for (const s of specs) {
    const m = metas.find((x) => x.name === s.name);
    if (!m) {
      if (!s.optional) problems.push(`${side} '${s.name}' is missing`);
      continue;
    }
    if (!s.types.includes(m.type as ElemType))
      problems.push(`${side} '${s.name}' has element type ${m.type}, expected ${s.types.join(' or ')}`);
    // onnxruntime reports [] both for a scalar and for an unknown shape, so [] is not a mismatch
    if (m.shape.length > 0 && !s.ranks.includes(m.shape.length)) {
      problems.push(
        `${side} '${s.name}' has rank ${m.shape.length} ([${m.shape.join(',')}]), expected rank ${s.ranks.join(' or ')}`,
      );
    }
  }
  if (strictExtra) {
    for (const m of metas)
      if (!specs.some((s) => s.name === m.name))
        problems.push(`unexpected ${side} '${m.name}' (the pipeline cannot feed it)`);
  }
  return problems;
}
