import assert from 'node:assert/strict';

export type Slice = { name: string; ph: string; ts: number; dur: number; tid: number };

/** Every pair of slices on one track is disjoint or nested (the trace-event rule for complete events). */
export function assertNested(events: Slice[]): void {
  const byTid = new Map<number, Slice[]>();
  for (const e of events) if (e.ph === 'X') byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), e]);
  for (const [tid, list] of byTid) {
    for (const a of list)
      for (const b of list) {
        if (a === b) continue;
        const [a0, a1, b0, b1] = [a.ts, a.ts + a.dur, b.ts, b.ts + b.dur];
        const disjoint = a1 <= b0 || b1 <= a0,
          aInB = a0 >= b0 && a1 <= b1,
          bInA = b0 >= a0 && b1 <= a1;
        assert.ok(
          disjoint || aInB || bInA,
          `track ${tid}: '${a.name}' [${a0}, ${a1}] partially overlaps '${b.name}' [${b0}, ${b1}]`,
        );
      }
  }
}
