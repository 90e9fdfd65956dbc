import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { contentHash, inputsVersion } from '../../lib/notebook/stage_cache.js';

test("the stages' version changes with the committed models' content, not with their mtimes", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'stage-version-'));
  const w = path.join(root, 'models', 'tiny', 'unet.onnx');
  fs.mkdirSync(path.dirname(w), { recursive: true });
  fs.mkdirSync(path.join(root, 'dist', 'lib'), { recursive: true });
  fs.writeFileSync(path.join(root, 'dist', 'lib', 'a.js'), 'exports.a = 1;');
  fs.writeFileSync(w, Buffer.from([1, 2, 3, 4]));
  const v0 = inputsVersion(root);
  assert.equal(inputsVersion(root), v0);
  // a checkout: same bytes, new mtime
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(w, later, later);
  assert.equal(inputsVersion(root), v0, 'touching a file changes nothing');
  // new weights of the same size and mtime (what a fingerprint of count, size and mtime would miss)
  const st = fs.statSync(w);
  fs.writeFileSync(w, Buffer.from([1, 2, 3, 5]));
  fs.utimesSync(w, st.atime, st.mtime);
  const v1 = inputsVersion(root);
  assert.notEqual(v1, v0, 'new weights re-run the stages');
  // a renamed file with the same bytes is another tree
  const moved = contentHash(path.join(root, 'models'));
  fs.renameSync(w, path.join(path.dirname(w), 'unet2.onnx'));
  assert.notEqual(contentHash(path.join(root, 'models')), moved);
  // code changes too, and a project without models/ still has a version
  fs.writeFileSync(path.join(root, 'dist', 'lib', 'a.js'), 'exports.a = 2;');
  assert.notEqual(inputsVersion(root), v1);
  fs.rmSync(path.join(root, 'models'), { recursive: true });
  assert.match(inputsVersion(root), /^[0-9a-f]{64}:[0-9a-f]{64}$/);
});
