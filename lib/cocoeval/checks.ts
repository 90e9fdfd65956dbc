/**
 * Input checks before evaluation. Malformed records are UserErrors naming the record and field; things
 * pycocotools tolerates (or mishandles) without complaint become warnings that say what was done.
 */
import { CocoDataset, CocoResult, validateDataset, validateResults } from '../coco/types.js';
import { UserError } from '../params/user_error.js';

export interface GtIds {
  imageIds: Set<number>;
  categoryIds: Set<number>;
}

const countWhere = <T>(xs: T[], f: (x: T) => boolean): number => xs.reduce((n, x) => n + (f(x) ? 1 : 0), 0);

function warnAnnotationIds(ds: CocoDataset, warnings: string[]): void {
  const zero = countWhere(ds.annotations, (a) => a.id === 0);
  if (zero > 0) {
    warnings.push(
      `${zero} GT annotation(s) have id 0: pycocotools' matcher reads id 0 as "no match", so a detection of such an object counts as a false positive and the object as missed. This evaluator does the same to give pycocotools' numbers; renumber annotation ids from 1.`,
    );
  }
  const seen = new Set<number>();
  let dup = 0;
  for (const a of ds.annotations) {
    if (seen.has(a.id)) dup++;
    seen.add(a.id);
  }
  if (dup > 0) {
    warnings.push(
      `${dup} GT annotation id(s) repeat an earlier id: pycocotools would evaluate the last annotation with that id in place of each copy; here every annotation is evaluated as written, so figures may differ from pycocotools'. Make annotation ids unique.`,
    );
  }
}

function warnAnnotationFields(ds: CocoDataset, ids: GtIds, warnings: string[]): void {
  const anns = ds.annotations;
  const noArea = countWhere(anns, (a) => a.area === undefined);
  if (noArea)
    warnings.push(
      `${noArea} GT annotation(s) have no 'area': w·h of their bbox is used for the area ranges (pycocotools would fail with KeyError).`,
    );
  const noCrowd = countWhere(anns, (a) => a.iscrowd === undefined);
  if (noCrowd) warnings.push(`${noCrowd} GT annotation(s) have no 'iscrowd': treated as 0 (not crowd).`);
  const ignoreLost = countWhere(anns, (a) => Boolean(a.ignore) && !a.iscrowd);
  if (ignoreLost)
    warnings.push(
      `${ignoreLost} GT annotation(s) carry ignore=1 without iscrowd: pycocotools overwrites 'ignore' from 'iscrowd', so they are evaluated as ordinary objects (here too).`,
    );
  const orphanImg = countWhere(anns, (a) => !ids.imageIds.has(a.image_id));
  if (orphanImg)
    warnings.push(
      `${orphanImg} GT annotation(s) refer to image ids missing from 'images' and are not evaluated (as in pycocotools).`,
    );
  const orphanCat = countWhere(anns, (a) => !ids.categoryIds.has(a.category_id));
  if (orphanCat)
    warnings.push(
      `${orphanCat} GT annotation(s) refer to category ids missing from 'categories' and are not evaluated (as in pycocotools).`,
    );
}

/** Validates the GT structure, collects its image and category ids, and warns about pycocotools pitfalls. */
export function checkGroundTruth(ds: CocoDataset, warnings: string[], where = 'ground truth'): GtIds {
  validateDataset(ds, where);
  const ids: GtIds = {
    imageIds: new Set(ds.images.map((im) => im.id)),
    categoryIds: new Set(ds.categories.map((c) => c.id)),
  };
  warnAnnotationIds(ds, warnings);
  warnAnnotationFields(ds, ids, warnings);
  return ids;
}

/**
 * Validates detections (UserError naming the record for a missing/mistyped field, NaN/Infinity, a bbox
 * that is not 4 numbers, an image id absent from the GT) and returns how many have a category absent
 * from the GT (dropped from evaluation, as pycocotools drops them).
 */
export function checkDetections(dets: unknown, gt: GtIds, warnings: string[], where = 'detections'): number {
  const rs: CocoResult[] = validateResults(dets, where);
  let firstBad = -1,
    bad = 0,
    firstCat = -1,
    unknownCat = 0,
    negative = 0;
  for (let i = 0; i < rs.length; i++) {
    if (!gt.imageIds.has(rs[i].image_id)) {
      bad++;
      if (firstBad < 0) firstBad = i;
    }
    if (!gt.categoryIds.has(rs[i].category_id)) {
      unknownCat++;
      if (firstCat < 0) firstCat = i;
    }
    if (rs[i].bbox[2] < 0 || rs[i].bbox[3] < 0) negative++;
  }
  if (bad > 0) {
    throw new UserError(
      `${where}: results[${firstBad}].image_id ${rs[firstBad].image_id} is not an image of the ground truth (${bad} record(s) refer to unknown images). pycocotools refuses such a file too ("Results do not correspond to current coco set").`,
    );
  }
  if (rs.length === 0)
    warnings.push(
      `${where}: the results list is empty: every category with ground truth gets AP 0 and AR 0 (pycocotools raises IndexError on an empty list).`,
    );
  if (unknownCat > 0) {
    warnings.push(
      `${where}: ${unknownCat} detection(s) have a category_id absent from the GT categories (first: results[${firstCat}].category_id = ${rs[firstCat].category_id}) and are not evaluated, as in pycocotools. If the model outputs contiguous labels, map them to COCO category ids.`,
    );
  }
  if (negative > 0) {
    warnings.push(
      `${where}: ${negative} detection(s) have a negative width or height. As in pycocotools their IoU with everything is 0 and their area is w·h: with one negative side it is negative, outside every area range, and they are ignored; with both negative they count as false positives.`,
    );
  }
  return unknownCat;
}
