/**
 * Checks an output file path before the work that produces it: not a folder, not under a file, in a
 * writable folder. A bad `--out` is then refused in a second instead of after a long evaluation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../params/user_error.js';

export function checkOutputFile(file: string, flag: string): void {
  const abs = path.resolve(file);
  if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) throw new UserError(`${flag} ${file} is a folder; give a file path (e.g. ${path.join(file, 'coco_eval.json')})`);
  let dir = path.dirname(abs);
  while (!fs.existsSync(dir)) dir = path.dirname(dir); // the nearest existing ancestor (the root always exists)
  if (!fs.statSync(dir).isDirectory()) throw new UserError(`${flag} ${file}: ${dir} is a file, so nothing can be written under it`);
  try { fs.accessSync(dir, fs.constants.W_OK); } catch { throw new UserError(`${flag} ${file}: ${dir} is not writable`); }
}
