import { defineCommand } from '../command.js';
import { TRAIN_SCHEMA, TrainParams } from '../../train/config.js';
import { train } from '../../train/fit.js';
import { trainSummary } from '../../train/console_table.js';

export const trainCommand = defineCommand<TrainParams>({
  name: 'train',
  summary: 'fine-tune DETR on a subset (TensorBoard logs, profiler trace, checkpoints, loss curves, val mAP)',
  schema: TRAIN_SCHEMA,
  usage:
    'The demo (the defaults: the demo subset, the bundled demo model at demo sizes):\n  detrlab train --epochs 6 --batch-size 8 --lr-drop 4 --augment demo-flip\n' +
    'The original experiment on COCO (after prepare-coco and subset --coco-root data/coco --out-root data/coco_subset):\n' +
    '  detrlab train --data-root data/coco_subset --model-name facebook/detr-resnet-50 --output-dir runs/detr_coco_subset \\\n' +
    '    --epochs 10 --batch-size 2 --lr 1e-4 --lr-backbone 1e-5 --weight-decay 1e-4',
  async run(p) {
    const r = await train(p);
    console.log(trainSummary({ ...r, backend: r.engine.backend }));
  },
});
