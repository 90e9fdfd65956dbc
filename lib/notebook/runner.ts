/**
 * `detrlab notebooks run`: executes the numbered notebooks in order, headless, papermill-style, each in
 * a fresh tslab kernel; saves executed copies (after every cell, so nothing is lost on a crash) and
 * one self-contained HTML report. A failing cell stops the run, the partial report is still written,
 * and the result says which cell failed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KernelClient } from './kernel_client.js';
import { executeNotebook } from './execute.js';
import { LiveConsole, progressText } from './live_console.js';
import { runSummary, summaryLines } from './run_summary.js';
import { injectParameters } from './parameters.js';
import { Notebook, readNotebook } from './nbformat.js';
import { renderReport, ReportStage, fmtMs } from './report.js';
import { writeFileAtomic, writeJsonAtomic } from '../io/atomic.js';
import { UserError } from '../params/user_error.js';
import { ProfileName, profileParameters } from '../pipeline/profiles.js';
import {
  readCache,
  writeCache,
  snapshot,
  changed,
  outputsIntact,
  inputsVersion,
  stageKey,
  chainKey,
} from './stage_cache.js';
import { projectRoot } from '../io/paths.js';

export interface RunNotebooksOptions {
  profile: ProfileName;
  /** Notebook prefixes or names to run (empty = all). */
  only: string[];
  /** Overrides for every notebook that declares the key. */
  parameters: Record<string, unknown>;
  notebooksDir: string;
  outDir: string;
  cellTimeoutMs?: number;
  /** Re-run stages even when their cache entry is valid. */
  force?: boolean;
  /** Version of the code and models the stages run (default: a hash of dist/lib and models/); part of every stage's cache key. */
  codeVersion?: string;
  log?: (line: string) => void;
  /** The console that shows the running stage's progress (default: stderr, live in a terminal). */
  live?: LiveConsole;
}

export interface RunNotebooksResult {
  ok: boolean;
  stages: ReportStage[];
  reportPath: string;
  failed?: { notebook: string; cellIndex: number; message: string };
}

export function listNotebooks(dir: string, only: string[] = []): string[] {
  if (!fs.existsSync(dir)) throw new UserError(`notebook folder ${dir} does not exist`);
  const all = fs
    .readdirSync(dir)
    .filter((f) => /^\d\d_.+\.ipynb$/.test(f))
    .sort();
  if (only.length === 0) return all;
  const picked = all.filter((f) => only.some((o) => f === o || f.startsWith(o.replace(/\.ipynb$/, ''))));
  const unknown = only.filter((o) => !all.some((f) => f === o || f.startsWith(o.replace(/\.ipynb$/, ''))));
  if (unknown.length) throw new UserError(`no notebook matches ${unknown.join(', ')}; available: ${all.join(', ')}`);
  return picked;
}

/** Forwards a stage's progress bars and printed lines to the runner's console. */
function forward(
  live: LiveConsole,
  name: string,
  ended: () => boolean,
): (t: string, c: Record<string, unknown>) => void {
  const prefix = `[${name.replace(/\.ipynb$/, '')}]`;
  return (t, c) => {
    if (ended()) return; // late display updates of a finished stage
    if (t === 'stream') live.stream(prefix, String(c.text ?? ''));
    if (t !== 'display_data' && t !== 'update_display_data') return;
    const html = (c.data as Record<string, unknown> | undefined)?.['text/html'];
    const p = typeof html === 'string' ? progressText(html) : undefined;
    const id = (c.transient as { display_id?: string } | undefined)?.display_id ?? '';
    if (p) live.progress(prefix, id, p.text, p.final);
  };
}

async function runOne(
  file: string,
  nb: Notebook,
  opts: RunNotebooksOptions,
  save: (nb: Notebook) => void,
  live: LiveConsole,
): Promise<ReportStage> {
  const name = path.basename(file);
  const kernel = await KernelClient.start({
    cwd: path.dirname(path.resolve(file)),
    env: { DETRLAB_PROFILE: opts.profile },
  });
  let ended = false;
  try {
    const res = await executeNotebook(nb, kernel, {
      cellTimeoutMs: opts.cellTimeoutMs,
      onProgress: save,
      onOutput: forward(live, name, () => ended),
    });
    save(res.nb);
    const error = res.error ? `cell ${res.error.cellIndex}: ${res.error.ename}: ${res.error.evalue}` : undefined;
    return { name, status: res.ok ? 'ok' : 'failed', ms: res.ms, nb: res.nb, error };
  } finally {
    ended = true;
    live.clear();
    await kernel.shutdown();
  }
}

export async function runNotebooks(opts: RunNotebooksOptions): Promise<RunNotebooksResult> {
  const live = opts.live ?? new LiveConsole(opts.log ? { quiet: true } : {}); // a caller's log takes the lines
  const log = opts.log ?? ((s: string) => live.line(s));
  const files = listNotebooks(opts.notebooksDir, opts.only);
  const started = new Date();
  // Every notebook has a place in the report: with --only, the others show their executed copy from an earlier
  // run (when there is one), so a partial run does not leave a report with holes.
  const all = listNotebooks(opts.notebooksDir);
  const earlier = (f: string): ReportStage => {
    const copy = path.join(opts.outDir, 'notebooks', f);
    return fs.existsSync(copy)
      ? { name: f, status: 'earlier run', ms: 0, nb: readNotebook(copy) }
      : { name: f, status: 'not run', ms: 0 };
  };
  const stages: ReportStage[] = all.map((f) =>
    files.includes(f) ? { name: f, status: 'not run', ms: 0 } : earlier(f),
  );
  const at = (f: string) => stages.findIndex((s) => s.name === f);
  const reportPath = path.join(opts.outDir, 'report.html');
  const writeReport = async () =>
    writeFileAtomic(
      reportPath,
      await renderReport(stages, {
        title: `detrlab ${opts.profile} run`,
        profile: opts.profile,
        started,
        parameters: opts.parameters,
      }),
    );
  const used = new Set<string>();
  let failed: RunNotebooksResult['failed'];
  const cacheFile = path.join(opts.outDir, 'stage_cache.json');
  const cache = readCache(cacheFile);
  const code = opts.codeVersion ?? inputsVersion(projectRoot());
  const watched = ['data', 'runs'];
  let prevKey: string = opts.profile;
  for (let i = 0; i < files.length; i++) {
    const file = path.join(opts.notebooksDir, files[i]);
    const source = readNotebook(file);
    const profileValues = profileParameters(opts.profile, files[i]);
    const { nb, injected, unused } = injectParameters(source, { ...profileValues, ...opts.parameters });
    const stale = Object.keys(profileValues).filter((k) => unused.includes(k));
    if (stale.length)
      throw new UserError(
        `profile '${opts.profile}' sets ${stale.join(', ')} for ${files[i]}, which its parameters cell does not declare`,
      );
    injected.forEach((k) => used.add(k));
    const outNb = path.join(opts.outDir, 'notebooks', files[i]);
    const key = stageKey(
      code,
      source,
      Object.fromEntries(
        injected.map((k) => [k, ({ ...profileValues, ...opts.parameters } as Record<string, unknown>)[k]]),
      ),
      prevKey,
    );
    const hit = cache[files[i]];
    if (!opts.force && hit?.key === key && fs.existsSync(outNb) && outputsIntact(hit.outputs)) {
      prevKey = chainKey(key, hit.outputs);
      stages[at(files[i])] = { name: files[i], status: 'cached', ms: hit.ms, nb: readNotebook(outNb) };
      log(
        `[notebooks] ${files[i]} unchanged since ${hit.finishedAt} (inputs, parameters, code and outputs): skipped; --force re-runs it`,
      );
      continue;
    }
    log(`[notebooks] ${files[i]} …`);
    const before = snapshot(watched, [opts.outDir]);
    const stage = await runOne(file, nb, opts, (x) => writeJsonAtomic(outNb, x), live);
    stages[at(files[i])] = stage;
    if (stage.status === 'ok') {
      const outputs = changed(before, snapshot(watched, [opts.outDir]));
      cache[files[i]] = { key, outputs, ms: stage.ms, finishedAt: new Date().toISOString() };
      prevKey = chainKey(key, outputs); // what it wrote feeds the next stage's key
    } else delete cache[files[i]];
    writeCache(cacheFile, cache);
    log(`[notebooks] ${files[i]} ${stage.status} in ${fmtMs(stage.ms)}${stage.error ? ` — ${stage.error}` : ''}`);
    await writeReport();
    if (stage.status === 'failed') {
      failed = {
        notebook: files[i],
        cellIndex: Number(/cell (\d+)/.exec(stage.error ?? '')?.[1] ?? -1),
        message: stage.error ?? 'failed',
      };
      break;
    }
  }
  const unused = Object.keys(opts.parameters).filter((k) => !used.has(k));
  if (unused.length && !failed) log(`[notebooks] warning: no notebook declares parameter(s) ${unused.join(', ')}`);
  await writeReport();
  for (const l of summaryLines(runSummary(stages), reportPath)) log(l);
  return { ok: !failed, stages, reportPath, failed };
}
