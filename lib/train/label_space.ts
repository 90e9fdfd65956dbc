/**
 * Label spaces. A subset trains with contiguous labels 0..K−1 (label_map.json). Pre-training on a whole
 * COCO-format root can instead use COCO category ids as labels — a head of max(91, max id + 1) classes
 * whose row i is category id i, exactly like facebook/detr-resnet-50 (its `config.json` `id2label` is the COCO id,
 * 91 = no-object). A model trained that way supports `--head-init coco-rows` when fine-tuned on a subset.
 */
import { DetectionSplit } from '../data/dataset.js';
import { LabelMap } from '../coco/subset_types.js';

export function toCocoIdLabels(split: DetectionSplit): DetectionSplit {
  const src = split.labelMap;
  const k = Math.max(91, ...src.categoryIds.map((id) => id + 1));
  const classes: string[] = new Array<string>(k).fill('N/A');
  src.categoryIds.forEach((id, i) => {
    classes[id] = src.classes[i];
  });
  const labelMap: LabelMap = { classes, categoryIds: Array.from({ length: k }, (_, id) => id) };
  const records = split.records.map((r) => ({ ...r, labels: r.labels.map((l) => src.categoryIds[l]) }));
  return { ...split, labelMap, records };
}
