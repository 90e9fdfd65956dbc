// Stage parameters typed as plain strings (notebooks need no casts) are still checked at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augmentPreset, AUGMENT_PRESETS } from '../../lib/data/augment.js';
import { resolveSynthParams } from '../../lib/synth/synth_params.js';

test('augment presets by name; an unknown name or choice is a UserError naming the choices', () => {
  assert.equal(augmentPreset('detr'), AUGMENT_PRESETS.detr);
  assert.equal(augmentPreset('demo'), AUGMENT_PRESETS.demo);
  assert.equal(augmentPreset('demo-flip'), AUGMENT_PRESETS['demo-flip']);
  assert.throws(
    () => augmentPreset('big'),
    (e: Error) => e.name === 'UserError' && /choose detr, demo, demo-flip/.test(e.message),
  );
  assert.throws(
    () => resolveSynthParams({ scheduler: 'foo' }),
    (e: Error) => e.name === 'UserError' && /scheduler.*ddim, euler-a, dpmpp-2m/.test(e.message),
  );
});
