/**
 * Profiles: the same notebooks with different parameters. `demo` is each notebook's own defaults (the
 * embedded, CPU-sized run); `coco` is the seed's experiment on real COCO 2017 with
 * facebook/detr-resnet-50 and a real SD 1.5 + ControlNet model folder. Keys are notebook prefixes.
 */
export type ProfileName = 'demo' | 'coco';
export const PROFILE_NAMES: readonly ProfileName[] = ['demo', 'coco'];

export const PROFILES: Record<ProfileName, Record<string, Record<string, unknown>>> = {
  demo: {},
  coco: {
    '01': { source: 'coco', dataRoot: 'data/coco', download: true, splits: ['train', 'val'] },
    '02': { cocoRoot: 'data/coco', outRoot: 'data/coco_subset', augment: 'detr' },
    '03': {
      dataRoot: 'data/coco_subset',
      modelName: 'facebook/detr-resnet-50',
      outputDir: 'runs/detr_coco_subset',
      epochs: 10,
      batchSize: 2,
      lr: 1e-4,
      lrBackbone: 1e-5,
      weightDecay: 1e-4,
      lrDrop: 0,
      augment: 'detr',
      overwrite: false,
    },
    '04': { run: 'runs/detr_coco_subset', dataRoot: 'data/coco_subset' },
    '05': { run: 'runs/detr_coco_subset', dataRoot: 'data/coco_subset' },
    '06': { run: 'runs/detr_coco_subset', dataRoot: 'data/coco_subset' },
    '07': { dataRoot: 'data/coco_subset', minSize: 32, size: 224 },
    '08': { modelDir: 'data/models/sd15-controlnet-canny', size: 512, perClass: 200, cannyLow: 100, cannyHigh: 200 },
    '09': { backboneWeights: 'facebook/detr-resnet-50', imageSize: 224, epochs: 10, batchSize: 32, maxPerClass: 0 },
  },
};

/** Parameters a profile injects into one notebook (by its two-digit prefix). */
export function profileParameters(profile: ProfileName, notebook: string): Record<string, unknown> {
  const prefix = notebook.slice(0, 2);
  return { ...(PROFILES[profile]['*'] ?? {}), ...(PROFILES[profile][prefix] ?? {}) };
}
