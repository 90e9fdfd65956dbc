import * as fs from 'node:fs';
import * as path from 'node:path';
import { defineCommand } from '../command.js';
import { exportCheckpoint, trainDiffusion } from '../../diffusion/train_diffusion.js';
import { TRAIN_DIFFUSION_SCHEMA } from '../../diffusion/train_diffusion_params.js';
import { fmtDuration } from '../../viz/progress.js';

export const trainDiffusionCommand = defineCommand({
  name: 'train-diffusion',
  summary:
    "train tiny-sd (autoencoder, text encoder, UNet, ControlNet-canny in SD 1.5's roles) on the crops, export it as an ONNX model folder for `detrlab synth`",
  schema: TRAIN_DIFFUSION_SCHEMA,
  usage:
    'Resumes <out>/checkpoints/last when present (bit-identical to an uninterrupted run). Recipe: scripts/make_demo_diffusion.sh.\n' +
    'example: detrlab train-diffusion --crops data/demo_all_crops --out data/diffusion --max-steps 500',
  async run(p) {
    const r = await trainDiffusion(p);
    const s = r.state;
    const where =
      s.phase === 'done'
        ? 'training complete'
        : `stopped in phase ${s.phase} at step ${s.step} (run the same command to continue)`;
    console.log(
      `${where}; ${fmtDuration(s.trainSeconds)} of training; last loss ${s.lastLoss?.toFixed(4) ?? '—'}; checkpoint ${r.checkpoint}`,
    );
    if (s.phase === 'done' || p.exportUnfinished) {
      const dir = exportCheckpoint(p);
      const bytes = ['text_encoder', 'controlnet', 'unet', 'vae_decoder', 'vae_encoder'].reduce(
        (a, k) => a + fs.statSync(path.join(dir, k, 'model.onnx')).size,
        0,
      );
      console.log(
        `model folder ${dir} (${(bytes / 1e6).toFixed(2)} MB); sample it with: detrlab synth --model-dir ${dir}`,
      );
    }
  },
});
