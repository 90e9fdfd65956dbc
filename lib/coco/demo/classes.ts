/**
 * The demo dataset's classes: the 10 mission classes plus 10 more, with COCO's names and category ids,
 * a long-tailed sampling weight (fire hydrant, train and motorcycle are rare; person and car common),
 * the size range of the figure's longest side in pixels (for a 128-px image), and how to draw it.
 */
import { Rng } from '../../engine/rng.js';
import { Figure } from './shapes.js';
import { bicycle, boat, bus, car, motorcycle, train, truck } from './figures_vehicles.js';
import { fireHydrant, kite, person, stopSign, trafficLight, umbrella } from './figures_street.js';
import { bird, cat, cow, dog, elephant, horse, sheep } from './figures_animals.js';

export interface DemoClass {
  name: string;
  categoryId: number;
  /** Relative frequency of instances (sums to ~100 over the classes). */
  weight: number;
  /** Longest side of the figure in pixels, for a 128-px shortest image side. */
  sizePx: [number, number];
  draw: (rng: Rng) => Figure;
}

export const DEMO_CLASSES: readonly DemoClass[] = [
  { name: 'person', categoryId: 1, weight: 22, sizePx: [16, 70], draw: person },
  { name: 'bicycle', categoryId: 2, weight: 4.5, sizePx: [18, 56], draw: bicycle },
  { name: 'car', categoryId: 3, weight: 14, sizePx: [18, 72], draw: car },
  { name: 'motorcycle', categoryId: 4, weight: 2, sizePx: [18, 56], draw: motorcycle },
  { name: 'bus', categoryId: 6, weight: 4.5, sizePx: [30, 90], draw: bus },
  { name: 'train', categoryId: 7, weight: 1.8, sizePx: [44, 110], draw: train },
  { name: 'truck', categoryId: 8, weight: 6, sizePx: [24, 80], draw: truck },
  { name: 'boat', categoryId: 9, weight: 5, sizePx: [18, 64], draw: boat },
  { name: 'traffic light', categoryId: 10, weight: 7, sizePx: [14, 44], draw: trafficLight },
  { name: 'fire hydrant', categoryId: 11, weight: 1.5, sizePx: [12, 36], draw: fireHydrant },
  { name: 'stop sign', categoryId: 13, weight: 2, sizePx: [12, 40], draw: stopSign },
  { name: 'bird', categoryId: 16, weight: 5, sizePx: [10, 32], draw: bird },
  { name: 'cat', categoryId: 17, weight: 3, sizePx: [14, 44], draw: cat },
  { name: 'dog', categoryId: 18, weight: 4, sizePx: [16, 56], draw: dog },
  { name: 'horse', categoryId: 19, weight: 3, sizePx: [24, 72], draw: horse },
  { name: 'sheep', categoryId: 20, weight: 3.5, sizePx: [16, 48], draw: sheep },
  { name: 'cow', categoryId: 21, weight: 3, sizePx: [24, 64], draw: cow },
  { name: 'elephant', categoryId: 22, weight: 1.5, sizePx: [30, 90], draw: elephant },
  { name: 'umbrella', categoryId: 28, weight: 4, sizePx: [16, 56], draw: umbrella },
  { name: 'kite', categoryId: 38, weight: 3, sizePx: [12, 44], draw: kite },
];

/** Classes that appear as crowd regions (a group of small figures annotated as one iscrowd=1 box). */
export const CROWD_CLASSES: readonly string[] = ['person', 'person', 'person', 'sheep', 'bird', 'car'];

export const demoClass = (name: string): DemoClass => {
  const c = DEMO_CLASSES.find((d) => d.name === name);
  if (!c) throw new Error(`no demo class '${name}'`);
  return c;
};

/** Samples a class by weight. */
export function sampleClass(rng: Rng): DemoClass {
  const total = DEMO_CLASSES.reduce((s, c) => s + c.weight, 0);
  let u = rng.random() * total;
  for (const c of DEMO_CLASSES) {
    u -= c.weight;
    if (u < 0) return c;
  }
  return DEMO_CLASSES[DEMO_CLASSES.length - 1];
}
