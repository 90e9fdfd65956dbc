/**
 * `npm run bench -- cocoeval [images] [detsPerImage]`: COCOeval on a generated COCO-val-sized case
 * (default 5,000 images × 100 detections ≈ 500k detections, ~36k GT, 80 classes, seeded). Times the
 * evaluation from parsed JSON (validation + evaluate + accumulate + summarize), and JSON.parse of the
 * results file separately; peak RSS of the whole process.
 */
import { evaluateCoco } from '../lib/cocoeval/coco_eval.js';
import { syntheticCase } from '../tests/fixtures/synthetic_eval.js';
import { peakRssMb, writeBench } from './bench_util.js';

async function main(): Promise<void> {
  const images = Number(process.argv[2] ?? 5000),
    detsPerImage = Number(process.argv[3] ?? 100);
  const t0 = performance.now();
  const c = syntheticCase({ images, categories: 80, gtPerImage: 7.3, detsPerImage, seed: 2017, crowdFraction: 0.01 });
  const genS = (performance.now() - t0) / 1000;
  const text = JSON.stringify(c.dets);
  const t1 = performance.now();
  const dets = JSON.parse(text);
  const parseS = (performance.now() - t1) / 1000;
  const runs: number[] = [];
  let stats: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    stats = evaluateCoco(c.gt, dets, { quiet: true }).stats;
    runs.push((performance.now() - t) / 1000);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  writeBench('cocoeval', {
    images,
    dets: c.dets.length,
    gt: c.gt.annotations.length,
    categories: c.gt.categories.length,
    cocoeval_500k_s: sorted[1],
    cocoeval_first_run_s: runs[0],
    cocoeval_min_s: sorted[0],
    json_parse_dets_s: parseS,
    dets_json_mb: text.length / 1e6,
    generate_s: genS,
    peak_rss_mb: peakRssMb(),
    map: stats[0],
    map_50: stats[1],
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
