/**
 * Batches for training and evaluation, decoded ahead of the consumer.
 *
 *   const loader = new DetrLoader(await loadDetectionSplit('data/demo_subset', 'train'), { batchSize: 8, train: true, augment: DEMO_AUGMENT });
 *   for await (const batch of loader.epoch(0)) step(batch);   // batch.pixels [B,H,W,3], batch.mask [B,H,W]
 *   console.log(loader.summary());
 *
 * A window of `prefetch` images is always in flight (decode + transforms run in sharp's native threads,
 * so they proceed while the training step computes); results are consumed in order. An image that is
 * missing or corrupt is skipped with one warning naming it and counted; the batch is filled from the
 * next images. Order and augmentation are functions of (seed, epoch, image), not of timing.
 */
import { Rng, seedFrom } from '../engine/rng.js';
import { AugmentConfig, DETR_AUGMENT, trainTransform, valTransform } from './augment.js';
import { collate, DETR_NORMALIZE, NormalizeConfig, Prepared } from './batch.js';
import { DetectionRecord, DetectionSplit } from './dataset.js';
import { decodeRgb, DecodeError } from './decode.js';
import { DetrBatch } from './types.js';

export interface LoaderConfig {
  batchSize: number;
  /** Augment (DETR train transforms) and shuffle; false = deterministic val resize, file order. */
  train: boolean;
  augment: AugmentConfig;
  normalize: NormalizeConfig;
  seed: number;
  /** Images decoded ahead (default 4 batches). */
  prefetch?: number;
  /** Drop a last incomplete batch (DETR: train yes, val no). Default: = train. */
  dropLast?: boolean;
  /** Print a warning for each skipped image (default true). */
  warn?: boolean;
}

export interface LoaderStats {
  imagesLoaded: number;
  imagesSkipped: number;
  skipped: Array<{ file: string; reason: string }>;
  /** Time the consumer spent waiting for images (ms): 0 when decoding keeps ahead. */
  waitMs: number;
  batches: number;
}

export class DetrLoader {
  readonly cfg: LoaderConfig;
  readonly stats: LoaderStats = { imagesLoaded: 0, imagesSkipped: 0, skipped: [], waitMs: 0, batches: 0 };
  private readonly bad = new Set<string>();

  constructor(
    readonly split: DetectionSplit,
    cfg: Partial<LoaderConfig> & { batchSize: number; train: boolean },
  ) {
    this.cfg = { augment: DETR_AUGMENT, normalize: DETR_NORMALIZE, seed: 0, ...cfg };
  }

  get batchesPerEpoch(): number {
    const n = this.split.records.length;
    return (this.cfg.dropLast ?? this.cfg.train)
      ? Math.floor(n / this.cfg.batchSize)
      : Math.ceil(n / this.cfg.batchSize);
  }

  /** Record order of an epoch (a seeded shuffle when training). */
  order(epoch: number): number[] {
    const n = this.split.records.length;
    return this.cfg.train
      ? new Rng(seedFrom('loader-order', this.cfg.seed, epoch)).permutation(n)
      : Array.from({ length: n }, (_, i) => i);
  }

  /** Decodes and transforms one record; undefined (counted, warned once) when the image is unusable. */
  async prepare(r: DetectionRecord, epoch: number): Promise<Prepared | undefined> {
    const out = await this.load(r, epoch);
    return 'reason' in out ? this.skip(r, out.reason) : out;
  }

  /** Decode + transform; an unusable image comes back as its reason, recorded by the caller in order. */
  private async load(r: DetectionRecord, epoch: number): Promise<Prepared | { reason: string }> {
    try {
      const image = await decodeRgb(r.file, { width: r.width, height: r.height });
      const sample = {
        image: { data: image.data, width: image.width, height: image.height },
        targets: { boxesXyxy: r.boxesXyxy, labels: r.labels, areas: r.areas },
      };
      const rng = new Rng(seedFrom('loader-aug', this.cfg.seed, epoch, r.imageId));
      const out = this.cfg.train
        ? await trainTransform(sample, this.cfg.augment, rng)
        : await valTransform(sample, this.cfg.augment);
      return { imageId: r.imageId, image: out.image, targets: out.targets, origSize: [r.height, r.width] };
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      return { reason: e.reason };
    }
  }

  /** Counts a skipped image; the first time a file fails it is listed and warned about. */
  private skip(r: DetectionRecord, reason: string): undefined {
    this.stats.imagesSkipped++;
    if (!this.bad.has(r.file)) {
      this.bad.add(r.file);
      this.stats.skipped.push({ file: r.file, reason });
      if (this.cfg.warn ?? true) console.warn(`warning: skipping image ${r.file}: ${reason}`);
    }
    return undefined;
  }

  /** Batches of one epoch, starting at batch `startBatch` (resume). */
  async *epoch(epoch: number, startBatch = 0): AsyncGenerator<DetrBatch & { waitMs: number }> {
    const { batchSize } = this.cfg;
    const order = this.order(epoch).slice(startBatch * batchSize);
    const ahead = Math.max(1, this.cfg.prefetch ?? 4 * batchSize);
    // Decodes finish in any order; skips are recorded as they are consumed, so the list follows `order`.
    const window: Array<{ record: DetectionRecord; out: Promise<Prepared | { reason: string }> }> = [];
    let next = 0;
    const fill = () => {
      while (window.length < ahead && next < order.length) {
        const record = this.split.records[order[next++]];
        const out = this.load(record, epoch);
        out.catch(() => undefined); // a failure surfaces when awaited in order, not as an unhandled rejection
        window.push({ record, out });
      }
    };
    let items: Prepared[] = [];
    let waited = 0;
    fill();
    while (window.length > 0) {
      const t0 = performance.now();
      const { record, out } = window.shift()!;
      const loaded = await out;
      waited += performance.now() - t0;
      fill();
      const p = 'reason' in loaded ? this.skip(record, loaded.reason) : loaded;
      if (!p) continue;
      this.stats.imagesLoaded++;
      items.push(p);
      if (items.length === batchSize) {
        yield this.emit(items, waited);
        items = [];
        waited = 0;
      }
    }
    if (items.length > 0 && !(this.cfg.dropLast ?? this.cfg.train)) yield this.emit(items, waited);
  }

  private emit(items: Prepared[], waitMs: number): DetrBatch & { waitMs: number } {
    this.stats.waitMs += waitMs;
    this.stats.batches++;
    return { ...collate(items, this.cfg.normalize), waitMs };
  }

  /** Counts for a stage summary: dataset problems (from loading) and images skipped while decoding. */
  summary(): Record<string, number> {
    const s = this.split.stats;
    return {
      images: s.images,
      annotations: s.annotations,
      crowd_removed: s.crowdRemoved,
      degenerate_boxes_dropped: s.degenerateDropped,
      images_loaded: this.stats.imagesLoaded,
      images_skipped: this.stats.imagesSkipped,
      batches: this.stats.batches,
      loader_wait_ms: Math.round(this.stats.waitMs),
    };
  }
}
