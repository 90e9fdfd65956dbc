import { defineCommand } from '../command.js';
import { oneOf, int } from '../../params/schema.js';
import { initEngine, BACKEND_CHAIN, BackendChoice, tinyTrainingRun } from '../../engine/index.js';

export const environmentCommand = defineCommand({
  name: 'environment',
  summary: 'show the tensor backend chosen here, library versions, and run a tiny training job on it',
  schema: {
    backend: oneOf<BackendChoice>(['auto', ...BACKEND_CHAIN], 'auto', 'tfjs backend (auto walks the chain)'),
    steps: int(20, 'training steps of the smoke test', { min: 1, max: 10000 }),
  },
  async run(p) {
    const info = await initEngine({ backend: p.backend });
    console.log(
      JSON.stringify(
        { backend: info.backend, reason: info.reason, attempts: info.attempts, versions: info.versions },
        null,
        2,
      ),
    );
    const r = await tinyTrainingRun(p.steps);
    console.log(
      `tiny training run on ${r.backend}: loss ${r.losses[0].toFixed(4)} → ${r.losses[r.losses.length - 1].toFixed(4)} in ${r.steps} steps, ${r.msPerStep.toFixed(1)} ms/step, ${r.numTensorsLeaked} tensors leaked`,
    );
  },
});
