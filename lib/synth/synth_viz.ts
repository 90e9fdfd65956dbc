/** Views of a synth folder: real crop | control image | synthetic images, one row per class. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { imageGrid } from '../crops/image_grid.js';
import type { SynthParams } from './synth_params.js';
import { readSynthMetadata } from './synth_metadata.js';

/** Rows per class: the first record's source crop and control image, then up to `perClass` images. */
export async function synthGrid(
  out: string,
  o: { perClass?: number; cell?: number; classes?: string[] } = {},
): Promise<Buffer> {
  const recs = readSynthMetadata(out);
  const classes = o.classes ?? [...new Set(recs.map((r) => r.class))];
  const rows = classes.flatMap((c) => {
    const mine = recs.filter((r) => r.class === c).slice(0, o.perClass ?? 4);
    if (mine.length === 0) return [];
    return [
      {
        label: c,
        images: [mine[0].sourceCrop, path.join(out, mine[0].controlImage), ...mine.map((r) => path.join(out, r.file))],
      },
    ];
  });
  return imageGrid(rows, { cell: o.cell ?? 128 });
}

/** Crop / control / image triples of single records, one row each (for notebook 08). */
export async function synthTriples(out: string, n = 4, cell = 128): Promise<Buffer> {
  const recs = readSynthMetadata(out).slice(0, n);
  return imageGrid(
    recs.map((r) => ({
      label: `${r.class} #${r.index}`,
      images: [r.sourceCrop, path.join(out, r.controlImage), path.join(out, r.file)],
    })),
    { cell },
  );
}

/** examples/grid.png + a README.md that says which models made the images. */
export async function writeExamplesGrid(p: SynthParams, models: string): Promise<string | undefined> {
  if (!fs.existsSync(path.join(p.out, 'metadata.jsonl'))) return undefined;
  const png = await synthGrid(p.out, { perClass: p.gridPerClass });
  const file = path.join(p.examples, 'grid.png');
  writeFileAtomic(file, png);
  writeFileAtomic(
    path.join(p.examples, 'README.md'),
    `# Synthetic images (detrlab synth)\n\n![grid](grid.png)\n\n` +
      `Each row: a real crop of the class, its Canny edge map (the ControlNet control image), then synthetic images.\n\n` +
      `- models: ${models}\n- scheduler: ${p.scheduler}, ${p.steps} steps, guidance ${p.guidance}, conditioning scale ${p.conditioningScale}, ${p.size}×${p.size}, seed ${p.seed}\n` +
      `- prompt: "${p.promptTemplate}", negative: "${p.negativePrompt}"\n`,
  );
  return file;
}
