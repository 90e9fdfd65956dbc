import { test } from 'node:test';
import assert from 'node:assert/strict';
import { declaredParameterKeys, injectParameters, parseParamAssignment } from '../../lib/notebook/parameters.js';
import { Notebook } from '../../lib/notebook/nbformat.js';

test('top-level keys of the params literal, ignoring nested objects, strings and comments', () => {
  const src =
    "const params = {\n  a: 1, // b: 2\n  nested: { c: 3, d: [1, 2] },\n  s: 'x: y, z: {',\n  /* e: 5 */ f: `t`,\n  'g': 1,\n};\nconst other = { h: 1 };";
  assert.deepEqual(declaredParameterKeys(src), ['a', 'nested', 's', 'f']);
  assert.deepEqual(declaredParameterKeys('const params: Params = { epochs: 2 };'), ['epochs']);
});

test('-p values parse as JSON when they can', () => {
  assert.deepEqual(parseParamAssignment('epochs=2'), ['epochs', 2]);
  assert.deepEqual(parseParamAssignment('name=car'), ['name', 'car']);
  assert.deepEqual(parseParamAssignment('cls=["a","b"]'), ['cls', ['a', 'b']]);
  assert.deepEqual(parseParamAssignment('eq=a=b'), ['eq', 'a=b']);
  assert.throws(() => parseParamAssignment('noequals'));
});

test('injection adds one tagged cell after the parameters cell, with declared keys only', () => {
  const nb: Notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: [
      { cell_type: 'markdown', metadata: {}, source: '# t' },
      {
        cell_type: 'code',
        metadata: { tags: ['parameters'] },
        source: 'const params = { epochs: 1, lr: 0.1 };',
        outputs: [],
        execution_count: null,
      },
      { cell_type: 'code', metadata: {}, source: 'x', outputs: [], execution_count: null },
    ],
  };
  const r = injectParameters(nb, { epochs: 3, other: 1 });
  assert.deepEqual(r.injected, ['epochs']);
  assert.deepEqual(r.unused, ['other']);
  assert.equal(r.nb.cells.length, 4);
  assert.deepEqual(r.nb.cells[2].metadata.tags, ['injected-parameters']);
  assert.match([r.nb.cells[2].source].flat().join(''), /Object\.assign\(params, \{\n {2}"epochs": 3\n\}\)/);
  // Re-injecting replaces the earlier injected cell.
  const again = injectParameters(r.nb, { lr: 0.5 });
  assert.equal(again.nb.cells.length, 4);
  assert.match([again.nb.cells[2].source].flat().join(''), /"lr": 0.5/);
  assert.equal(nb.cells.length, 3, 'input not mutated');
});

test('every coco-profile key is declared by its notebook', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { PROFILES } = await import('../../lib/pipeline/profiles.js');
  const { readNotebook, parametersCellIndex, sourceOf } = await import('../../lib/notebook/nbformat.js');
  const dir = path.resolve(__dirname, '..', '..', '..', 'notebooks');
  for (const [prefix, values] of Object.entries(PROFILES.coco)) {
    const file = fs.readdirSync(dir).find((f) => f.startsWith(prefix + '_'));
    if (!file) continue; // a notebook that has not landed yet
    const nb = readNotebook(path.join(dir, file));
    const keys = declaredParameterKeys(sourceOf(nb.cells[parametersCellIndex(nb)]));
    for (const k of Object.keys(values)) assert.ok(keys.includes(k), `${file} does not declare '${k}'`);
  }
});
