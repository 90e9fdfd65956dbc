/** Writes the files of stage 06 (`<run>/analysis/`, listed in analysis_stage.ts). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CocoDataset, CocoResult } from '../coco/types.js';
import type { DetectionSplit } from '../data/dataset.js';
import type { ErrorAnalysis } from './error_analysis.js';
import type { StatName } from '../cocoeval/summarize.js';
import { statCell } from '../eval/eval_tables.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { contactSheet } from '../viz/contact_sheet.js';
import { renderPng, VlSpec } from '../viz/vega_render.js';
import { confusionChart, errorsByClassChart, errorsBySizeChart, OUTCOME_COLORS } from './analysis_charts.js';
import { confusionMarkdown, errorsByClassMarkdown, errorsBySizeMarkdown, settingsLine } from './analysis_tables.js';
import { matchingRuleMarkdown } from './matching_rule.js';
import { drawWorstImages, WorstImage } from './worst_images.js';

export interface AnalysisRecord {
  analysis: ErrorAnalysis;
  metrics: Record<StatName, number>;
  interpretation: string[];
  /** Where the detections came from (reused file or fresh prediction, and why). */
  detections: string;
  /** The stage parameters (all written to error_analysis.json). */
  params: { maxSide: number };
}

export interface AnalysisFiles {
  json: string;
  byClass: string;
  bySize: string;
  confusion: string;
  worstImages: string;
  interpretation: string;
  charts: string[];
  overlays: string[];
  worstSheet: string | null;
}
export interface AnalysisCharts {
  byClass: VlSpec;
  bySize: VlSpec;
  confusion?: VlSpec;
}

function interpretationMarkdown(r: AnalysisRecord, rule: string): string {
  const m = r.metrics;
  return [
    '# Interpretation',
    '',
    settingsLine(r.analysis),
    `COCO metrics on these images (every detection, no threshold): mAP ${statCell(m.map)}, mAP50 ${statCell(m.map_50)}, AP75 ${statCell(m.map_75)}, AP small/medium/large ${[m.map_small, m.map_medium, m.map_large].map(statCell).join(' / ')}.`,
    `Detections: ${r.detections}.`,
    '',
    ...r.interpretation.map((s) => `- ${s}`),
    '',
    '## How predictions are classified',
    '',
    rule,
    '',
    `Overlay colours: ${Object.entries(OUTCOME_COLORS)
      .map(([k, c]) => `${k} ${c}`)
      .join(', ')}.`,
    '',
  ].join('\n');
}

async function writeCharts(dir: string, charts: AnalysisCharts): Promise<string[]> {
  const out: string[] = [];
  for (const [name, spec] of [
    ['errors_by_class', charts.byClass],
    ['errors_by_size', charts.bySize],
    ['confusion', charts.confusion],
  ] as const) {
    const file = path.join(dir, `${name}.png`);
    if (!spec) {
      fs.rmSync(file, { force: true });
      continue;
    }
    writeFileAtomic(file, await renderPng(spec));
    out.push(file);
  }
  return out;
}

async function writeWorst(
  dir: string,
  r: AnalysisRecord,
  d: { gt: CocoDataset; dets: CocoResult[]; split: DetectionSplit },
): Promise<{ worst: WorstImage[]; sheet?: Buffer }> {
  const worstDir = path.join(dir, 'worst');
  fs.rmSync(worstDir, { recursive: true, force: true });
  const worst = await drawWorstImages(r.analysis, d.gt, d.dets, d.split.records, worstDir, r.params.maxSide);
  const drawn = worst.filter((w) => w.overlay);
  if (drawn.length === 0) return { worst };
  const sheet = await contactSheet(
    drawn.map((w) => ({ image: w.overlay!, caption: `#${w.rank} image ${w.imageId}: ${w.errors} errors` })),
    {
      columns: Math.min(3, drawn.length),
      cellWidth: Math.min(2 * r.params.maxSide + 8, 640),
      title: 'Images with the most errors: GT (left), predictions coloured by outcome (right)',
    },
  );
  return { worst, sheet };
}

/** Writes every analysis file; returns their paths, the chart specs and the worst-images sheet. */
export async function writeAnalysisFiles(
  dir: string,
  r: AnalysisRecord,
  d: { gt: CocoDataset; dets: CocoResult[]; split: DetectionSplit },
): Promise<{ files: AnalysisFiles; charts: AnalysisCharts; worstSheet?: Buffer }> {
  const a = r.analysis,
    rule = matchingRuleMarkdown(a.options.iouThr, a.options.scoreThr);
  const f = (n: string) => path.join(dir, n);
  writeFileAtomic(f('errors_by_class.md'), errorsByClassMarkdown(a, rule));
  writeFileAtomic(f('errors_by_size.md'), errorsBySizeMarkdown(a));
  writeFileAtomic(f('confusion.md'), confusionMarkdown(a));
  writeFileAtomic(f('interpretation.md'), interpretationMarkdown(r, rule));
  const charts: AnalysisCharts = {
    byClass: errorsByClassChart(a),
    bySize: errorsBySizeChart(a),
    confusion: confusionChart(a),
  };
  const chartFiles = await writeCharts(dir, charts);
  const { worst, sheet } = await writeWorst(dir, r, d);
  writeJsonAtomic(f('worst_images.json'), worst);
  const sheetFile = f('worst_images.png');
  if (sheet) writeFileAtomic(sheetFile, sheet);
  else fs.rmSync(sheetFile, { force: true });
  writeJsonAtomic(f('error_analysis.json'), {
    ...a,
    metrics: r.metrics,
    interpretation: r.interpretation,
    detections: r.detections,
    params: r.params,
    matchingRule: rule,
  });
  const files: AnalysisFiles = {
    json: f('error_analysis.json'),
    byClass: f('errors_by_class.md'),
    bySize: f('errors_by_size.md'),
    confusion: f('confusion.md'),
    worstImages: f('worst_images.json'),
    interpretation: f('interpretation.md'),
    charts: chartFiles,
    overlays: worst.flatMap((w) => (w.overlay ? [w.overlay] : [])),
    worstSheet: sheet ? sheetFile : null,
  };
  return { files, charts, worstSheet: sheet };
}
