/**
 * The ablation's charts: pure vega-lite spec builders over the run files (docs/conventions.md), and
 * `writeAblationCharts`, which renders them to PNG beside ablation.md. Also the example grid: synthetic
 * images beside real crops of the same rare class.
 */
import * as path from 'node:path';
import { imageGrid } from '../crops/image_grid.js';
import { writeFileAtomic } from '../io/atomic.js';
import { readLog } from '../io/run_dir.js';
import { lineChart } from '../viz/charts.js';
import { renderPng, VlSpec } from '../viz/vega_render.js';
import { ABLATION_RUNS, AblationRunName, RUN_LABELS } from './ablation_plan.js';
import { type AblationJson, readRunMetrics } from './ablation_json.js';
import { readCropsData, readSynthData } from './crop_samples.js';

/** Grouped horizontal bars: accuracy of each class at the best epoch, one bar per run; rare classes marked. */
export function perClassAccuracyChart(j: AblationJson): VlSpec {
  const rows = j.classes
    .flatMap((c) =>
      ABLATION_RUNS.map((r) => ({
        class: j.rare.includes(c) ? `${c} (rare)` : c,
        run: RUN_LABELS[r],
        accuracy: j[r].per_class[c],
      })),
    )
    .filter((r) => r.accuracy !== null);
  return {
    title: 'Per-class val accuracy at the best epoch',
    width: 360,
    height: { step: 12 },
    data: { values: rows },
    mark: 'bar',
    encoding: {
      y: { field: 'class', type: 'nominal', title: null },
      yOffset: { field: 'run', type: 'nominal' },
      x: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] } },
      color: { field: 'run', type: 'nominal', sort: ABLATION_RUNS.map((r) => RUN_LABELS[r]) },
      tooltip: [{ field: 'class' }, { field: 'run' }, { field: 'accuracy', format: '.3f' }],
    },
  };
}

/** Element-wise sum of the best-epoch confusion matrices of a run over its seeds. */
export function summedConfusion(j: AblationJson, run: AblationRunName): number[][] {
  const k = j.classes.length;
  const sum = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (const s of j[run].per_seed)
    readRunMetrics(s.dir).best.confusion.forEach((row, t) =>
      row.forEach((v, p) => {
        sum[t][p] += v;
      }),
    );
  return sum;
}

/** Heat map of a confusion matrix, colour = share of the true class's crops, text = count. */
export function classifierConfusionChart(confusion: number[][], classes: string[], title: string): VlSpec {
  const rows = confusion.flatMap((row, t) => {
    const n = row.reduce((a, b) => a + b, 0);
    return row.map((count, p) => ({ true: classes[t], predicted: classes[p], count, share: n ? count / n : 0 }));
  });
  const enc = {
    x: { field: 'predicted', type: 'nominal', sort: classes },
    y: { field: 'true', type: 'nominal', sort: classes },
  };
  return {
    title,
    width: { step: 26 },
    height: { step: 20 },
    data: { values: rows },
    layer: [
      {
        mark: 'rect',
        encoding: {
          ...enc,
          color: {
            field: 'share',
            type: 'quantitative',
            scale: { scheme: 'blues', domain: [0, 1] },
            title: 'share of row',
          },
        },
      },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          ...enc,
          text: { field: 'count', type: 'quantitative' },
          color: { condition: { test: 'datum.share > 0.5', value: 'white' }, value: 'black' },
        },
      },
    ],
  };
}

export const classifierConfusionCharts = (j: AblationJson): VlSpec => ({
  hconcat: ABLATION_RUNS.map((r) =>
    classifierConfusionChart(
      summedConfusion(j, r),
      j.classes,
      `Confusion at the best epoch: ${RUN_LABELS[r]}${j.seeds.length > 1 ? ' (summed over seeds)' : ''}`,
    ),
  ),
});

/** Val accuracy and train loss per epoch of every run, read from the runs' log.jsonl. */
export function trainingCurvesChart(j: AblationJson): VlSpec {
  const rows = [
    ...j.real.per_seed.map((s) => ({ s, run: 'real' as const })),
    ...j.real_synth.per_seed.map((s) => ({ s, run: 'real_synth' as const })),
  ].flatMap(({ s, run }) =>
    readLog(path.join(s.dir, 'log.jsonl'))
      .filter((r) => r.split === 'val' || r.split === 'train_epoch')
      .map((r) => ({
        epoch: r.epoch + 1,
        run: j.seeds.length > 1 ? `${RUN_LABELS[run]} seed ${s.seed}` : RUN_LABELS[run],
        split: r.split,
        acc: r.acc,
        loss: r.loss,
      })),
  );
  return {
    hconcat: [
      lineChart(
        rows.filter((r) => r.split === 'val'),
        'epoch',
        'acc',
        { title: 'Val accuracy (real val crops)', color: 'run', width: 300, height: 200 },
      ),
      lineChart(
        rows.filter((r) => r.split === 'train_epoch'),
        'epoch',
        'loss',
        { title: 'Train loss (epoch mean)', color: 'run', width: 300, height: 200 },
      ),
    ],
  };
}

/** PNG: per rare class, a row of synthetic images and a row of real train crops. */
export async function synthExamplesGrid(j: AblationJson, cropsDir: string, perClass = 4): Promise<Buffer> {
  const crops = readCropsData(cropsDir);
  const synth = readSynthData(j.synth.dir, crops);
  const rows = j.rare.flatMap((c) => [
    {
      label: `${c} · synth`,
      images: synth.samples
        .filter((s) => s.class === c)
        .slice(0, perClass)
        .map((s) => s.file),
    },
    {
      label: `${c} · real`,
      images: crops.train
        .filter((s) => s.class === c)
        .slice(0, perClass)
        .map((s) => s.file),
    },
  ]);
  return imageGrid(rows, { cell: 72, labelWidth: 170 });
}

/** Renders every chart to <out>/*.png; returns { title: file name } for ablation.md. */
export async function writeAblationCharts(
  outputDir: string,
  j: AblationJson,
  cropsDir: string,
  perClass: number,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const put = (title: string, file: string, png: Uint8Array) => {
    writeFileAtomic(path.join(outputDir, file), png);
    out[title] = file;
  };
  put('Per-class accuracy', 'per_class_accuracy.png', await renderPng(perClassAccuracyChart(j)));
  for (const r of ABLATION_RUNS)
    put(
      `Confusion matrix: ${RUN_LABELS[r]}`,
      `confusion_${r}.png`,
      await renderPng(
        classifierConfusionChart(summedConfusion(j, r), j.classes, `Confusion at the best epoch: ${RUN_LABELS[r]}`),
      ),
    );
  put('Training curves', 'training_curves.png', await renderPng(trainingCurvesChart(j)));
  put('Synthetic vs real examples', 'examples.png', await synthExamplesGrid(j, cropsDir, perClass));
  return out;
}
