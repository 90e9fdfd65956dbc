import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initEngine } from '../../lib/engine/index.js';
import {
  Box,
  cxcywhToXyxy,
  xyxyToCxcywh,
  xywhToXyxy,
  xyxyToXywh,
  areaXyxy,
  iouXyxy,
  giouXyxy,
  giouMatrixXyxy,
  iouMatrixXyxy,
  l1Matrix,
  cxcywhNormToXywhAbs,
} from '../../lib/box/box_ops.js';
import { cxcywhToXyxyT, giouMatrixXyxyT, giouPairedXyxyT, l1MatrixT } from '../../lib/box/box_tensor.js';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const closeAll = (a: number[], b: number[], tol = 1e-6) => {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => close(x, b[i], tol));
};

test('format conversions (hand-computed) and round trips', () => {
  closeAll(cxcywhToXyxy([0.5, 0.5, 0.2, 0.4]), [0.4, 0.3, 0.6, 0.7]);
  closeAll(xyxyToCxcywh([0.4, 0.3, 0.6, 0.7]), [0.5, 0.5, 0.2, 0.4]);
  assert.deepEqual(xywhToXyxy([10, 20, 30, 40]), [10, 20, 40, 60]);
  assert.deepEqual(xyxyToXywh([10, 20, 40, 60]), [10, 20, 30, 40]);
  assert.equal(areaXyxy([1, 2, 4, 6]), 12);
  // normalised cxcywh [0.5,0.5,0.5,0.25] in a 640×480 image → x 160, y 180, w 320, h 120
  closeAll(cxcywhNormToXywhAbs([0.5, 0.5, 0.5, 0.25], 640, 480), [160, 180, 320, 120]);
});

test('IoU and GIoU against hand-computed values', () => {
  const a: Box = [0, 0, 2, 2],
    b: Box = [1, 1, 3, 3];
  close(iouXyxy(a, b), 1 / 7); // inter 1, union 7
  close(giouXyxy(a, b), 1 / 7 - 2 / 9); // enclosing 3×3 = 9 → −5/63
  close(giouXyxy(a, a), 1);
  close(giouXyxy([0, 0, 1, 1], [2, 0, 3, 1]), -1 / 3); // disjoint: 0 − (3 − 2)/3
  close(iouXyxy([0, 0, 1, 1], [2, 0, 3, 1]), 0);
  close(giouXyxy([0, 0, 4, 4], [1, 1, 2, 2]), 1 / 16); // contained: IoU 1/16, enclosing = union
  const m = giouMatrixXyxy([a, [0, 0, 1, 1]], [b, a, [2, 0, 3, 1]]);
  assert.equal(m.length, 2);
  assert.equal(m[0].length, 3);
  close(m[0][0], -5 / 63);
  close(m[0][1], 1);
  close(m[1][2], -1 / 3);
  close(iouMatrixXyxy([a], [b])[0][0], 1 / 7);
  assert.deepEqual(
    l1Matrix(
      [[0, 0, 1, 1]],
      [
        [1, 1, 1, 1],
        [0, 0, 0, 0],
      ],
    ),
    [[2, 2]],
  );
});

test('tensor versions equal the array versions', async () => {
  await initEngine({ backend: 'cpu', log: null });
  const boxesA: Box[] = [
    [0.5, 0.5, 0.2, 0.4],
    [0.3, 0.6, 0.5, 0.1],
    [0.7, 0.2, 0.05, 0.3],
  ];
  const boxesB: Box[] = [
    [0.45, 0.55, 0.25, 0.3],
    [0.9, 0.9, 0.1, 0.1],
  ];
  const before = tf.memory().numTensors;
  const ta = tf.tensor2d(boxesA),
    tb = tf.tensor2d(boxesB);
  const xa = cxcywhToXyxyT(ta) as tf.Tensor2D,
    xb = cxcywhToXyxyT(tb) as tf.Tensor2D;
  const [giou, l1, paired] = tf.tidy(
    () =>
      [
        giouMatrixXyxyT(xa, xb).arraySync(),
        l1MatrixT(ta, tb).arraySync(),
        giouPairedXyxyT(tf.slice(xa, [0, 0], [2, 4]) as tf.Tensor2D, xb).arraySync(),
      ] as [number[][], number[][], number[]],
  );
  const ea = boxesA.map(cxcywhToXyxy),
    eb = boxesB.map(cxcywhToXyxy);
  giouMatrixXyxy(ea, eb).forEach((row, i) => closeAll(giou[i], row));
  l1Matrix(boxesA, boxesB).forEach((row, i) => closeAll(l1[i], row));
  closeAll(paired, [giouXyxy(ea[0], eb[0]), giouXyxy(ea[1], eb[1])]);
  tf.dispose([ta, tb, xa, xb]);
  assert.equal(tf.memory().numTensors, before);
});
