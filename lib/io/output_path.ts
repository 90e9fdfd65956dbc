/**
 * Checks an output file path before the work that produces it: not a folder, not under a file, in a
 * writable folder. A bad `--out` is then refused in a second instead of after a long evaluation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../params/user_error.js';

/**
 * An output folder (created later): not a file, not under a file, in a writable place. `what` names the
 * flag in messages.
 */
export function checkOutputDir(dir: string, flag: string): void {
  if (!dir) throw new UserError(`${flag} is empty; give a folder path`);
  const abs = path.resolve(dir);
  let d = abs;
  while (!fs.existsSync(d)) d = path.dirname(d);
  if (!fs.statSync(d).isDirectory()) {
    throw new UserError(
      d === abs
        ? `${flag} ${dir} is a file, not a folder`
        : `${flag} ${dir}: ${d} is a file, so no folder can be made under it`,
    );
  }
  try {
    fs.accessSync(d, fs.constants.W_OK);
  } catch {
    throw new UserError(`${flag} ${dir}: ${d} is not writable`);
  }
}

export function checkOutputFile(file: string, flag: string): void {
  const abs = path.resolve(file);
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory())
    throw new UserError(`${flag} ${file} is a folder; give a file path (e.g. ${path.join(file, 'coco_eval.json')})`);
  let dir = path.dirname(abs);
  while (!fs.existsSync(dir)) dir = path.dirname(dir); // the nearest existing ancestor (the root always exists)
  if (!fs.statSync(dir).isDirectory())
    throw new UserError(`${flag} ${file}: ${dir} is a file, so nothing can be written under it`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new UserError(`${flag} ${file}: ${dir} is not writable`);
  }
}
