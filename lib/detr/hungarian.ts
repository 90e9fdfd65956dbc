/**
 * Exact minimum-cost assignment for rectangular cost matrices, with the semantics of
 * `scipy.optimize.linear_sum_assignment` (scipy/optimize/rectangular_lsap/rectangular_lsap.cpp):
 * the shortest-augmenting-path method of Crouse (IEEE TAES 52(4), 2016, pp. 1685–1686), i.e. a
 * Jonker–Volgenant-style solver with dual potentials, O(n²m).
 *
 * - An n×m matrix yields min(n, m) pairs, rows ascending (scipy solves the transpose when n > m).
 * - NaN or −∞ anywhere is refused ("invalid numeric entries"); +∞ entries are forbidden pairs, allowed
 *   while some finite assignment exists, otherwise "infeasible".
 * - Ties are broken as scipy does (columns scanned from the last; an unassigned column wins a tie),
 *   so a constant matrix gives the identity assignment.
 */
export interface Assignment {
  rows: number[];
  cols: number[];
  total: number;
}

/** A cost matrix scipy would refuse. */
export class AssignmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssignmentError';
  }
}

/** Mutable state of one solve on an nr×nc matrix (nr ≤ nc), row-major `cost` shifted to be ≥ 0. */
interface Lsap {
  nr: number;
  nc: number;
  cost: Float64Array;
  u: Float64Array;
  v: Float64Array; // dual potentials of rows / columns
  col4row: Int32Array;
  row4col: Int32Array; // current partial assignment (−1 = free)
  dist: Float64Array;
  pred: Int32Array; // shortest reduced path cost to each column, and its row
  rowSeen: Uint8Array;
  colSeen: Uint8Array;
}

/**
 * Dijkstra over reduced costs from free row `start` until a free column is reached.
 * Returns that column and the path length, or −1 when every remaining column is unreachable (∞).
 */
function shortestAugmentingPath(s: Lsap, start: number): { sink: number; len: number } {
  const { nc, cost, u, v, dist, pred, row4col, rowSeen, colSeen } = s;
  dist.fill(Infinity);
  rowSeen.fill(0);
  colSeen.fill(0);
  const todo: number[] = [];
  for (let j = nc - 1; j >= 0; j--) todo.push(j); // scan order nc-1 … 0, as scipy
  let row = start,
    len = 0;
  for (;;) {
    rowSeen[row] = 1;
    let best = -1,
      bestDist = Infinity;
    for (let t = 0; t < todo.length; t++) {
      const j = todo[t];
      const d = len + cost[row * nc + j] - u[row] - v[j];
      if (d < dist[j]) {
        dist[j] = d;
        pred[j] = row;
      }
      if (dist[j] < bestDist || (dist[j] === bestDist && row4col[j] === -1)) {
        bestDist = dist[j];
        best = t;
      }
    }
    if (bestDist === Infinity) return { sink: -1, len: Infinity };
    len = bestDist;
    const col = todo[best];
    colSeen[col] = 1;
    todo[best] = todo[todo.length - 1];
    todo.pop();
    if (row4col[col] === -1) return { sink: col, len };
    row = row4col[col];
  }
}

/** Updates the potentials after a search from `start`, then flips the path ending at `sink`. */
function augment(s: Lsap, start: number, sink: number, len: number): void {
  const { nr, nc, u, v, dist, pred, col4row, row4col, rowSeen, colSeen } = s;
  u[start] += len;
  for (let i = 0; i < nr; i++) if (rowSeen[i] && i !== start) u[i] += len - dist[col4row[i]];
  for (let j = 0; j < nc; j++) if (colSeen[j]) v[j] -= len - dist[j];
  let col = sink;
  for (;;) {
    const row = pred[col];
    row4col[col] = row;
    const prev = col4row[row];
    col4row[row] = col;
    if (row === start) break;
    col = prev;
  }
}

/** Solves an nr×nc problem with nr ≤ nc; returns the column of each row. */
function solveWide(nr: number, nc: number, flat: Float64Array): Int32Array {
  let lo = Infinity;
  for (const x of flat) if (x < lo) lo = x;
  if (lo === Infinity) throw new AssignmentError('cost matrix is infeasible');
  const cost = flat.map((x) => x - lo);
  const s: Lsap = {
    nr,
    nc,
    cost,
    u: new Float64Array(nr),
    v: new Float64Array(nc),
    col4row: new Int32Array(nr).fill(-1),
    row4col: new Int32Array(nc).fill(-1),
    dist: new Float64Array(nc),
    pred: new Int32Array(nc).fill(-1),
    rowSeen: new Uint8Array(nr),
    colSeen: new Uint8Array(nc),
  };
  for (let row = 0; row < nr; row++) {
    const { sink, len } = shortestAugmentingPath(s, row);
    if (sink < 0) throw new AssignmentError('cost matrix is infeasible');
    augment(s, row, sink, len);
  }
  return s.col4row;
}

/** Checks shape and entries; returns [n, m]. */
function checkMatrix(cost: readonly (readonly number[])[]): [number, number] {
  const n = cost.length,
    m = n > 0 ? cost[0].length : 0;
  for (let i = 0; i < n; i++) {
    const row = cost[i];
    if (!Array.isArray(row) || row.length !== m)
      throw new AssignmentError(`cost matrix is not rectangular: row ${i} has ${row?.length} entries, row 0 has ${m}`);
    for (const x of row) {
      if (typeof x !== 'number')
        throw new AssignmentError(`cost matrix entries must be numbers, got ${JSON.stringify(x)} in row ${i}`);
      if (Number.isNaN(x) || x === -Infinity) throw new AssignmentError('matrix contains invalid numeric entries');
    }
  }
  return [n, m];
}

/** Minimum-cost assignment of min(n, m) rows to distinct columns (scipy's `linear_sum_assignment`). */
export function linearSumAssignment(cost: readonly (readonly number[])[]): Assignment {
  const [n, m] = checkMatrix(cost);
  if (n === 0 || m === 0) return { rows: [], cols: [], total: 0 };
  const transposed = m < n;
  const [nr, nc] = transposed ? [m, n] : [n, m];
  const flat = new Float64Array(nr * nc);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) flat[transposed ? j * nc + i : i * nc + j] = cost[i][j];
  const col4row = solveWide(nr, nc, flat);
  let pairs = Array.from(col4row, (c, r) => (transposed ? [c, r] : [r, c]));
  if (transposed) pairs = pairs.sort((a, b) => a[0] - b[0]);
  const rows = pairs.map((p) => p[0]),
    cols = pairs.map((p) => p[1]);
  let total = 0;
  for (let k = 0; k < rows.length; k++) total += cost[rows[k]][cols[k]];
  return { rows, cols, total };
}
