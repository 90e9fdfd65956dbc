/**
 * Pure box operations on plain arrays. Every name says the format:
 *   cxcywh  centre x, centre y, width, height (normalised 0..1 inside the model)
 *   xyxy    x0, y0, x1, y1 (corners)
 *   xywh    x, y, width, height (absolute pixels at the COCO boundary)
 * Semantics follow facebookresearch/detr `util/box_ops.py` (`box_iou`, `generalized_box_iou`).
 */
export type Box = [number, number, number, number];

export const cxcywhToXyxy = ([cx, cy, w, h]: Box): Box => [cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h];
export const xyxyToCxcywh = ([x0, y0, x1, y1]: Box): Box => [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0];
export const xywhToXyxy = ([x, y, w, h]: Box): Box => [x, y, x + w, y + h];
export const xyxyToXywh = ([x0, y0, x1, y1]: Box): Box => [x0, y0, x1 - x0, y1 - y0];

/** Area of an xyxy box (negative when the box is inverted, as torchvision's `box_area`). */
export const areaXyxy = ([x0, y0, x1, y1]: Box): number => (x1 - x0) * (y1 - y0);

/** Intersection and union of two xyxy boxes (intersection clamps at 0). */
function interUnion(a: Box, b: Box): { inter: number; union: number } {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  return { inter, union: areaXyxy(a) + areaXyxy(b) - inter };
}

/** IoU of two xyxy boxes (NaN when both are empty, as DETR's `box_iou`). */
export function iouXyxy(a: Box, b: Box): number {
  const { inter, union } = interUnion(a, b);
  return inter / union;
}

/** Generalised IoU of two xyxy boxes: IoU − (enclosing area − union) / enclosing area. In [−1, 1]. */
export function giouXyxy(a: Box, b: Box): number {
  const { inter, union } = interUnion(a, b);
  const ew = Math.max(0, Math.max(a[2], b[2]) - Math.min(a[0], b[0]));
  const eh = Math.max(0, Math.max(a[3], b[3]) - Math.min(a[1], b[1]));
  const enclosing = ew * eh;
  return inter / union - (enclosing - union) / enclosing;
}

const pairwise =
  (f: (a: Box, b: Box) => number) =>
  (a: Box[], b: Box[]): number[][] =>
    a.map((x) => b.map((y) => f(x, y)));

/** [N, M] IoU matrix of xyxy boxes. */
export const iouMatrixXyxy = pairwise(iouXyxy);
/** [N, M] generalised-IoU matrix of xyxy boxes (DETR `generalized_box_iou`). */
export const giouMatrixXyxy = pairwise(giouXyxy);
/** [N, M] L1 distance matrix (`torch.cdist(a, b, p=1)`), any box format. */
export const l1Matrix = pairwise(
  (a, b) => Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) + Math.abs(a[3] - b[3]),
);

/** Normalised cxcywh → absolute xywh in an image of `width`×`height` pixels. */
export const cxcywhNormToXywhAbs = (b: Box, width: number, height: number): Box => {
  const [x0, y0, x1, y1] = cxcywhToXyxy(b);
  return [x0 * width, y0 * height, (x1 - x0) * width, (y1 - y0) * height];
};
