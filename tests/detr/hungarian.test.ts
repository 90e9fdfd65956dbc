import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { linearSumAssignment, AssignmentError, Assignment } from '../../lib/detr/hungarian.js';
import { Rng } from '../../lib/engine/rng.js';

type Matrix = number[][];

/** Minimum over all injections of the smaller side into the larger (Infinity if none is finite). */
function bruteForceMin(c: Matrix): number {
  const n = c.length,
    m = n ? c[0].length : 0;
  if (n === 0 || m === 0) return 0;
  const at = (a: number, b: number) => (n <= m ? c[a][b] : c[b][a]);
  const [small, large] = n <= m ? [n, m] : [m, n];
  const used = new Array<boolean>(large).fill(false);
  let best = Infinity;
  const dfs = (k: number, acc: number) => {
    if (k === small) {
      best = Math.min(best, acc);
      return;
    }
    for (let j = 0; j < large; j++) {
      if (used[j]) continue;
      used[j] = true;
      dfs(k + 1, acc + at(k, j));
      used[j] = false;
    }
  };
  dfs(0, 0);
  return best;
}

function checkValid(c: Matrix, a: Assignment): void {
  const n = c.length,
    m = n ? c[0].length : 0;
  assert.equal(a.rows.length, Math.min(n, m));
  assert.equal(new Set(a.rows).size, a.rows.length);
  assert.equal(new Set(a.cols).size, a.cols.length);
  for (let k = 1; k < a.rows.length; k++) assert.ok(a.rows[k - 1] < a.rows[k], 'rows ascending');
  let total = 0;
  a.rows.forEach((r, k) => {
    total += c[r][a.cols[k]];
  });
  assert.equal(total, a.total);
}

type Kind = 'uniform' | 'ties' | 'negative' | 'huge' | 'inf' | 'sparse' | 'constant';
const KINDS: Kind[] = ['uniform', 'ties', 'negative', 'huge', 'inf', 'sparse', 'constant'];
function entry(kind: Kind, rng: Rng): number {
  switch (kind) {
    case 'uniform':
      return rng.random();
    case 'ties':
      return rng.int(0, 2);
    case 'negative':
      return rng.uniform(-100, 100);
    case 'huge':
      return rng.bool(0.5) ? 1e12 * rng.int(1, 3) : rng.int(-5, 5);
    case 'inf':
      return rng.bool(0.35) ? Infinity : rng.int(0, 9);
    case 'sparse':
      return rng.bool(0.7) ? Infinity : rng.uniform(-1, 1);
    case 'constant':
      return 7;
  }
}
const randomMatrix = (n: number, m: number, kind: Kind, rng: Rng): Matrix =>
  Array.from({ length: n }, () => Array.from({ length: m }, () => entry(kind, rng)));

test('equals brute force on every generated matrix up to 7×7 (rectangular both ways, ties, negative, huge, inf)', () => {
  const rng = new Rng(1);
  let checked = 0,
    infeasible = 0;
  for (let n = 0; n <= 7; n++)
    for (let m = 0; m <= 7; m++)
      for (const kind of KINDS)
        for (let rep = 0; rep < 3; rep++) {
          const c = randomMatrix(n, m, kind, rng);
          const want = bruteForceMin(c);
          if (want === Infinity) {
            assert.throws(() => linearSumAssignment(c), /infeasible/);
            infeasible++;
            continue;
          }
          const a = linearSumAssignment(c);
          checkValid(c, a);
          assert.ok(
            Math.abs(a.total - want) <= 1e-9 * (Math.abs(want) + 1),
            `${n}×${m} ${kind}: ${a.total} vs brute force ${want}`,
          );
          checked++;
        }
  assert.ok(checked > 1000 && infeasible > 50, `${checked} feasible, ${infeasible} infeasible cases`);
});

test('scipy semantics: constant → identity, NaN/−inf refused, all-inf infeasible, empty', () => {
  assert.deepEqual(
    linearSumAssignment([
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
    ]),
    { rows: [0, 1, 2], cols: [0, 1, 2], total: 3 },
  );
  assert.throws(
    () => linearSumAssignment([[NaN, 1]]),
    (e: Error) => e instanceof AssignmentError && /invalid numeric/.test(e.message),
  );
  assert.throws(
    () =>
      linearSumAssignment([
        [-Infinity, 1],
        [1, 1],
      ]),
    /invalid numeric/,
  );
  assert.throws(() => linearSumAssignment([[Infinity]]), /infeasible/);
  assert.throws(
    () =>
      linearSumAssignment([
        [1, Infinity],
        [Infinity, Infinity],
      ]),
    /infeasible/,
  );
  assert.deepEqual(
    linearSumAssignment([
      [Infinity, 2],
      [3, Infinity],
    ]),
    { rows: [0, 1], cols: [1, 0], total: 5 },
  );
  assert.deepEqual(linearSumAssignment([]), { rows: [], cols: [], total: 0 });
  assert.deepEqual(linearSumAssignment([[], []]), { rows: [], cols: [], total: 0 });
  assert.throws(() => linearSumAssignment([[1, 2], [3]]), /not rectangular/);
  // 3×2 (transposed internally): rows come back ascending
  const a = linearSumAssignment([
    [5, 1],
    [1, 5],
    [9, 9],
  ]);
  assert.deepEqual(a, { rows: [0, 1], cols: [1, 0], total: 2 });
});

/**
 * Optimality certificate independent of the solver: an assignment of k = min(n, m) pairs is a
 * minimum-cost flow of value k iff its residual network has no negative cycle (Bellman–Ford).
 */
function hasNegativeResidualCycle(c: Matrix, a: Assignment): boolean {
  const n = c.length,
    m = c[0].length,
    S = 0,
    T = n + m + 1,
    R = (i: number) => 1 + i,
    C = (j: number) => 1 + n + j;
  const col4row = new Map(a.rows.map((r, k) => [r, a.cols[k]]));
  const usedCols = new Set(a.cols);
  const edges: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    edges.push(col4row.has(i) ? [R(i), S, 0] : [S, R(i), 0]);
    for (let j = 0; j < m; j++) {
      if (col4row.get(i) === j) edges.push([C(j), R(i), -c[i][j]]);
      else if (c[i][j] !== Infinity) edges.push([R(i), C(j), c[i][j]]);
    }
  }
  for (let j = 0; j < m; j++) edges.push(usedCols.has(j) ? [T, C(j), 0] : [C(j), T, 0]);
  const dist = new Float64Array(T + 1);
  for (let it = 0; it <= T + 1; it++) {
    let changed = false;
    for (const [u, v, w] of edges)
      if (dist[u] + w < dist[v] - 1e-9) {
        dist[v] = dist[u] + w;
        changed = true;
      }
    if (!changed) return false;
  }
  return true;
}

test('optimal on 100×50, 50×100 and 100×100 with ties (residual-cycle certificate)', () => {
  const rng = new Rng(7);
  for (const [n, m, kind] of [
    [100, 50, 'uniform'],
    [50, 100, 'negative'],
    [100, 100, 'ties'],
    [60, 80, 'inf'],
  ] as [number, number, Kind][]) {
    const c = randomMatrix(n, m, kind, rng);
    const a = linearSumAssignment(c);
    checkValid(c, a);
    assert.equal(hasNegativeResidualCycle(c, a), false, `${n}×${m} ${kind}`);
    // the certificate does catch a suboptimal assignment: swap two columns of a random-cost solution
    if (kind === 'uniform') {
      const worse = { ...a, cols: [a.cols[1], a.cols[0], ...a.cols.slice(2)] };
      assert.equal(hasNegativeResidualCycle(c, worse), true);
    }
  }
});

test('same indices as scipy.optimize.linear_sum_assignment (skipped when python3 + scipy are absent)', (t) => {
  const probe = spawnSync('python3', ['-c', 'import scipy.optimize'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip('python3 with scipy not available');
    return;
  }
  const rng = new Rng(3);
  const cases: Matrix[] = [];
  for (let k = 0; k < 200; k++) cases.push(randomMatrix(rng.int(1, 9), rng.int(1, 9), k % 2 ? 'ties' : 'uniform', rng));
  const py =
    'import json,sys,numpy as np\nfrom scipy.optimize import linear_sum_assignment as f\n' +
    'print(json.dumps([[a.tolist() for a in f(np.array(c,dtype=float))] for c in json.load(sys.stdin)]))';
  const r = spawnSync('python3', ['-c', py], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const want = JSON.parse(r.stdout) as [number[], number[]][];
  cases.forEach((c, k) => {
    const a = linearSumAssignment(c);
    assert.deepEqual([a.rows, a.cols], want[k], `case ${k}: ${JSON.stringify(c)}`);
  });
});
