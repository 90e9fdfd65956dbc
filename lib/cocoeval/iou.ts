/**
 * Box IoU with pycocotools' conventions (cocodataset/cocoapi common/maskApi.c `bbIou`), on flat
 * `[x, y, w, h]` arrays:
 * - overlap width `min(x+w) − max(x)` and height likewise; ≤ 0 in either → IoU 0;
 * - union = area(dt) + area(gt) − inter with areas = w·h of the boxes (not the annotation's `area` field);
 * - crowd GT: union = area(dt), so IoU = the fraction of the detection inside the crowd region.
 * Kept apart from lib/box (generic geometry) because the crowd rule and the ≤ 0 cut-offs are COCO's.
 */

/** IoU of box `d` (at `dOff` in `dt`) with box `g` (at `gOff` in `gt`); `crowd` switches the union. */
export function bbIouAt(
  dt: ArrayLike<number>,
  dOff: number,
  gt: ArrayLike<number>,
  gOff: number,
  crowd: boolean,
): number {
  const dx = dt[dOff],
    dy = dt[dOff + 1],
    dw = dt[dOff + 2],
    dh = dt[dOff + 3];
  const gx = gt[gOff],
    gy = gt[gOff + 1],
    gw = gt[gOff + 2],
    gh = gt[gOff + 3];
  const w = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
  if (w <= 0) return 0;
  const h = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
  if (h <= 0) return 0;
  const inter = w * h;
  const da = dw * dh;
  return inter / (crowd ? da : da + gw * gh - inter);
}

/**
 * IoU matrix `out[d * G + g]` for D detections (boxes `dt[dStart..]`, 4 numbers each) against G ground
 * truths (`gt[gStart..]`), `crowd[gStart + g]` marking crowd GT. Writes D·G values into `out`.
 */
export function bbIouMatrix(
  dt: ArrayLike<number>,
  dStart: number,
  D: number,
  gt: ArrayLike<number>,
  gStart: number,
  G: number,
  crowd: ArrayLike<number>,
  out: Float64Array,
): void {
  for (let d = 0; d < D; d++) {
    for (let g = 0; g < G; g++) {
      out[d * G + g] = bbIouAt(dt, 4 * (dStart + d), gt, 4 * (gStart + g), crowd[gStart + g] !== 0);
    }
  }
}
