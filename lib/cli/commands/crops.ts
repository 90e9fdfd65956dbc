import { defineCommand } from '../command.js';
import { buildCrops, CROPS_SCHEMA } from '../../crops/crop_dataset.js';

export const cropsCommand = defineCommand({
  name: 'crops',
  summary: 'cut the crop-classification dataset (square GT-box crops + manifest.jsonl + classes.json) from a subset',
  schema: CROPS_SCHEMA,
  async run(p) {
    const r = await buildCrops(p);
    const n = (s: 'train' | 'val') => Object.values(r.classes.counts[s]).reduce((a, b) => a + b, 0);
    console.log(
      `${p.out}: ${n('train')} train + ${n('val')} val crops (${r.written} written, ${r.skipped} already there); rare: ${r.classes.rare.join(', ')}`,
    );
  },
});
