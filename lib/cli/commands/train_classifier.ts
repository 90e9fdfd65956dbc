/**
 * `detrlab train-classifier`: the crop classifier (DETR's ResNet backbone + a new linear head) trained on
 * the crops; prints the best epoch's class-balanced figures. Same function as notebook 09's runs.
 */
import { defineCommand } from '../command.js';
import { CLASSIFIER_SCHEMA } from '../../classify/classifier_params.js';
import { trainClassifier } from '../../classify/train_run.js';
import { textTable } from '../../viz/table.js';

export const trainClassifierCommand = defineCommand({
  name: 'train-classifier',
  summary:
    "fine-tune the crop classifier (DETR backbone + new linear head) on data/crops, optionally adding the rare classes' synthetic images",
  schema: CLASSIFIER_SCHEMA,
  usage:
    'Examples:\n  detrlab train-classifier --backbone-weights none --epochs 2\n  detrlab train-classifier --backbone-weights facebook/detr-resnet-50 --image-size 224 --synth data/synth',
  async run(p) {
    const m = await trainClassifier(p);
    const b = m.best;
    console.log(
      textTable(
        m.classes.map((c) => ({
          class: c,
          rare: m.rare.includes(c) ? 'yes' : '',
          val_crops: b.support[c],
          accuracy: b.perClass[c],
        })),
        4,
      ),
    );
    console.log(
      `\nbest epoch ${b.epoch + 1}/${m.epochs.length}: val acc ${b.accuracy.toFixed(4)}, balanced ${b.balancedAccuracy.toFixed(4)}, rare ${b.rareAccuracy?.toFixed(4) ?? '–'}` +
        ` (${m.train_img_per_s.toFixed(0)} img/s on ${m.backend}); wrote ${p.outputDir}/{config.json,log.jsonl,metrics.json}`,
    );
  },
});
