/**
 * Generic vega-lite spec builders (pure functions; `show()` renders them). Stage-specific charts live
 * with their stage and may build on these.
 */
import { VlSpec } from './vega_render.js';

export interface ChartOptions {
  title?: string;
  width?: number;
  height?: number;
  color?: string;
  xTitle?: string;
  yTitle?: string;
  logY?: boolean;
}

/** Lines of `y` against `x`, one line per value of `color` when given. */
export function lineChart(rows: Array<Record<string, unknown>>, x: string, y: string, o: ChartOptions = {}): VlSpec {
  return {
    ...(o.title ? { title: o.title } : {}),
    width: o.width ?? 480,
    height: o.height ?? 240,
    data: { values: rows },
    mark: { type: 'line', point: rows.length <= 60 },
    encoding: {
      x: { field: x, type: 'quantitative', title: o.xTitle ?? x },
      y: { field: y, type: 'quantitative', title: o.yTitle ?? y, ...(o.logY ? { scale: { type: 'log' } } : {}) },
      ...(o.color ? { color: { field: o.color, type: 'nominal' } } : {}),
    },
  };
}

/** Horizontal bars of `value` per `category`, sorted descending (long-tail view). */
export function barChart(
  rows: Array<Record<string, unknown>>,
  category: string,
  value: string,
  o: ChartOptions & { stack?: string } = {},
): VlSpec {
  return {
    ...(o.title ? { title: o.title } : {}),
    width: o.width ?? 420,
    height: o.height ?? { step: 16 },
    data: { values: rows },
    mark: 'bar',
    encoding: {
      y: { field: category, type: 'nominal', sort: '-x', title: o.yTitle ?? category },
      x: {
        field: value,
        type: 'quantitative',
        title: o.xTitle ?? value,
        ...(o.logY ? { scale: { type: 'symlog' } } : {}),
      },
      ...(o.stack ? { color: { field: o.stack, type: 'nominal' } } : {}),
      tooltip: [{ field: category }, { field: value }],
    },
  };
}
