/**
 * Executes a notebook's code cells in order on a kernel, collecting outputs the way Jupyter stores them
 * (merged streams, display updates by display_id, clear_output). Stops at the first failing cell.
 */
import { KernelClient } from './kernel_client.js';
import { Notebook, Output, CodeCell, sourceOf, textOf } from './nbformat.js';

export interface CellError {
  cellIndex: number;
  ename: string;
  evalue: string;
  traceback: string[];
}
export interface ExecutedNotebook {
  nb: Notebook;
  ok: boolean;
  error?: CellError;
  ms: number;
  cellsRun: number;
}

type Content = Record<string, unknown>;

class OutputCollector {
  /** display_id → outputs showing it (in any cell). */
  private readonly displays = new Map<string, Array<Extract<Output, { output_type: 'display_data' }>>>();
  private clearPending = false;
  outputs: Output[] = [];

  constructor(private readonly onChange: () => void) {}

  handle(type: string, c: Content): void {
    if (type === 'clear_output') {
      if (c.wait) this.clearPending = true;
      else this.outputs = [];
      return;
    }
    if (this.clearPending && type !== 'update_display_data') {
      this.outputs = [];
      this.clearPending = false;
    }
    switch (type) {
      case 'stream': {
        const name = c.name as 'stdout' | 'stderr';
        const last = this.outputs[this.outputs.length - 1];
        if (last?.output_type === 'stream' && last.name === name) last.text = textOf(last.text) + String(c.text);
        else this.outputs.push({ output_type: 'stream', name, text: String(c.text) });
        break;
      }
      case 'display_data': {
        const out = {
          output_type: 'display_data' as const,
          data: c.data as Content,
          metadata: (c.metadata as Content) ?? {},
        };
        const id = (c.transient as { display_id?: string } | undefined)?.display_id;
        if (id) this.displays.set(id, [...(this.displays.get(id) ?? []), out]);
        this.outputs.push(out);
        break;
      }
      case 'update_display_data': {
        const id = (c.transient as { display_id?: string } | undefined)?.display_id;
        for (const out of (id && this.displays.get(id)) || []) {
          out.data = c.data as Content;
          out.metadata = (c.metadata as Content) ?? {};
        }
        break;
      }
      case 'execute_result':
        this.outputs.push({
          output_type: 'execute_result',
          data: c.data as Content,
          metadata: (c.metadata as Content) ?? {},
          execution_count: (c.execution_count as number) ?? null,
        });
        break;
      case 'error':
        this.outputs.push({
          output_type: 'error',
          ename: String(c.ename),
          evalue: String(c.evalue),
          traceback: (c.traceback as string[]) ?? [],
        });
        break;
      default:
        return;
    }
    this.onChange();
  }

  /** Starts a new cell's output list (display ids stay known: a later cell may update an earlier display). */
  reset(): void {
    this.outputs = [];
    this.clearPending = false;
  }
}

export interface ExecuteOptions {
  cellTimeoutMs?: number;
  /** Called after each cell and whenever outputs change (for partial saves / progress). */
  onProgress?: (nb: Notebook, cellIndex: number) => void;
  /** Every IOPub output message as it arrives (the runner's live console). */
  onOutput?: (msgType: string, content: Record<string, unknown>) => void;
}

export async function executeNotebook(
  input: Notebook,
  kernel: KernelClient,
  opts: ExecuteOptions = {},
): Promise<ExecutedNotebook> {
  const nb: Notebook = structuredClone(input);
  const t0 = Date.now();
  let cellsRun = 0;
  let current = -1;
  const collector = new OutputCollector(() => {
    if (current >= 0) (nb.cells[current] as CodeCell).outputs = collector.outputs;
  });
  for (let i = 0; i < nb.cells.length; i++) {
    const cell = nb.cells[i];
    if (cell.cell_type !== 'code') continue;
    const code = sourceOf(cell);
    current = i;
    collector.reset();
    cell.outputs = collector.outputs;
    const c0 = Date.now();
    let res: Awaited<ReturnType<KernelClient['execute']>>;
    try {
      res = await kernel.execute(
        code,
        (t, c) => {
          opts.onOutput?.(t, c);
          collector.handle(t, c);
        },
        opts.cellTimeoutMs,
      );
    } catch (e) {
      if (/timed out/.test((e as Error).message)) kernel.interrupt();
      const err: CellError = {
        cellIndex: i,
        ename: 'RunnerError',
        evalue: (e as Error).message,
        traceback: [(e as Error).message],
      };
      collector.handle('error', { ...err });
      cell.outputs = collector.outputs;
      return { nb, ok: false, error: err, ms: Date.now() - t0, cellsRun };
    }
    cellsRun++;
    cell.outputs = collector.outputs;
    cell.execution_count = res.executionCount;
    cell.metadata = { ...cell.metadata, detrlab: { duration_ms: Date.now() - c0 } };
    opts.onProgress?.(nb, i);
    if (res.status !== 'ok') {
      return { nb, ok: false, error: cellError(i, collector.outputs, res.status), ms: Date.now() - t0, cellsRun };
    }
  }
  return { nb, ok: true, ms: Date.now() - t0, cellsRun };
}

/** The failing cell's error: its `error` output, or (tslab prints exceptions to stderr) the last stderr text. */
function cellError(cellIndex: number, outputs: Output[], status: string): CellError {
  const e = outputs.find((o) => o.output_type === 'error') as Extract<Output, { output_type: 'error' }> | undefined;
  if (e) return { cellIndex, ename: e.ename, evalue: e.evalue, traceback: e.traceback };
  const err = [...outputs].reverse().find((o) => o.output_type === 'stream' && o.name === 'stderr') as
    Extract<Output, { output_type: 'stream' }> | undefined;
  const text = err ? textOf(err.text).trim() : '';
  const first = text.split('\n').find((l) => l.trim() && !l.startsWith('[')) ?? `cell failed (${status})`;
  const m = /^(\w*Error|\w+Exception):\s*(.*)$/.exec(first.trim());
  return {
    cellIndex,
    ename: m ? m[1] : 'Error',
    evalue: m ? m[2] : first.trim(),
    traceback: text ? text.split('\n') : [],
  };
}
