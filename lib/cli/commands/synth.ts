import { defineCommand } from '../command.js';
import { synthesize } from '../../synth/synth_stage.js';
import { SYNTH_SCHEMA } from '../../synth/synth_params.js';

export const synthCommand = defineCommand({
  name: 'synth',
  summary:
    'synthetic images of the rare classes: SD 1.5 + ControlNet-canny on onnxruntime-node (tiny test models without --model-dir)',
  schema: SYNTH_SCHEMA,
  usage:
    'Resumable (existing images are skipped) and shardable: run `--shard 0/2` and `--shard 1/2` in two processes.\nModel folders: lib/synth/MODELS.md.',
  async run(p) {
    const s = await synthesize(p);
    console.log(
      `${s.generated} images generated${s.stale ? ` (${s.stale} made again: their crop changed)` : ''}, ${s.skipped} already there (${s.planned} in shard ${p.shard}) → ${s.metadata}`,
    );
    console.log(
      `models: ${s.models}; provider: ${s.provider}${Number.isFinite(s.msPerStep) ? `; ${(s.msPerStep / 1000).toFixed(3)} s per denoising step` : ''}`,
    );
    if (s.grid) console.log(`grid: ${s.grid}`);
  },
});
