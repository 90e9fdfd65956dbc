/**
 * Which GT boxes become crops, and the square region cut around each (pure; absolute pixel xywh boxes).
 */
import { AnnotationRecord } from './subset_reader.js';

/** A crop: non-crowd, and both box sides at least `minSize` pixels. */
export const isCroppable = (a: AnnotationRecord, minSize: number): boolean =>
  !a.iscrowd && a.bbox[2] >= minSize && a.bbox[3] >= minSize;

/** Integer square region `[left, top, side]`; it may extend past the image (filled by edge replication). */
export type SquareRegion = [number, number, number];

/**
 * The square of side max(w, h)·(1 + 2·margin) centred on the box: the object keeps its aspect ratio and
 * gets `margin` (a fraction of its longer side) of context on each side of that side.
 */
export function squareRegion([x, y, w, h]: [number, number, number, number], margin: number): SquareRegion {
  const side = Math.max(1, Math.round(Math.max(w, h) * (1 + 2 * margin)));
  const cx = x + w / 2,
    cy = y + h / 2;
  return [Math.round(cx - side / 2), Math.round(cy - side / 2), side];
}

/** The part of a region inside a width×height image, and how much lies outside on each side. */
export function clipRegion([left, top, side]: SquareRegion, width: number, height: number) {
  const x0 = Math.max(0, left),
    y0 = Math.max(0, top);
  const x1 = Math.min(width, left + side),
    y1 = Math.min(height, top + side);
  return {
    extract: { left: x0, top: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) },
    pad: { left: x0 - left, top: y0 - top, right: left + side - x1, bottom: top + side - y1 },
  };
}
