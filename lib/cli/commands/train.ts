import { defineCommand } from '../command.js';
import { TRAIN_SCHEMA, TrainParams } from '../../train/config.js';
import { train } from '../../train/fit.js';
import { trainSummary } from '../../train/console_table.js';

export const trainCommand = defineCommand<TrainParams>({
  name: 'train',
  summary: 'fine-tune DETR on a subset (TensorBoard logs, profiler trace, checkpoints, loss curves, val mAP)',
  schema: TRAIN_SCHEMA,
  usage: 'The seed\'s command line:\n  detrlab train --data-root data/coco_subset --model-name facebook/detr-resnet-50 --output-dir runs/detr_coco_subset \\\n    --epochs 10 --batch-size 2 --lr 1e-4 --lr-backbone 1e-5 --weight-decay 1e-4\nThe demo: detrlab train --data-root data/demo_subset --model-name demo --augment demo --output-dir runs/detr_demo',
  async run(p) {
    const r = await train(p);
    console.log(trainSummary({ ...r, backend: r.engine.backend }));
  },
});
