/**
 * Paths. Stage parameters hold paths relative to the project root (`data/demo`, `runs/demo`). The CLI
 * runs from the root; a notebook kernel starts in `notebooks/` (Jupyter's rule), so loading the library
 * there calls `enterProjectRoot()` after its import, which moves the working directory to the root.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The folder holding detrlab's package.json (dist/lib/io → three levels up). */
export const projectRoot = (): string => path.resolve(__dirname, '..', '..', '..');

/**
 * If the process sits in the project's notebooks/ folder, move to the project root. Returns nothing, so a
 * notebook cell ending with the call displays nothing (the working directory is `process.cwd()`).
 */
export function enterProjectRoot(): void {
  const root = projectRoot();
  if (path.resolve(process.cwd()) === path.join(root, 'notebooks') && fs.existsSync(path.join(root, 'package.json'))) {
    process.chdir(root);
  }
}
