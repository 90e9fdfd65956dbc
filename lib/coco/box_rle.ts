/** Column-major uncompressed RLE of an axis-aligned integer box (pycocotools' `counts` layout). */
export function boxRle(
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  w: number,
  h: number,
): { counts: number[]; size: [number, number] } {
  const counts: number[] = [x0 * h + y0];
  for (let x = x0; x < x1; x++) {
    counts.push(y1 - y0);
    counts.push(x === x1 - 1 ? (w - x1) * h + (h - y1) : h - (y1 - y0));
  }
  return { counts, size: [h, w] };
}
