import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance, closest, didYouMean } from '../../lib/params/did_you_mean.js';
import { parseFlags } from '../../lib/params/flags.js';
import { TRAIN_SCHEMA } from '../../lib/train/config.js';
import { hubFailure, KNOWN_MODEL_NAMES } from '../../lib/train/setup.js';
import { isUserError } from '../../lib/params/user_error.js';

test('edit distance: hand-computed insertions, deletions, substitutions and adjacent swaps', () => {
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3); // k→s, e→i, +g
  assert.equal(editDistance('epoch', 'epochs'), 1);
  assert.equal(editDistance('trian', 'train'), 1); // one adjacent swap
  assert.equal(editDistance('ca', 'abc'), 3); // OSA (not unrestricted Damerau, which gives 2)
  assert.equal(editDistance('same', 'same'), 0);
});

test('closest: near words and prefixes, best first; nothing for far words', () => {
  assert.deepEqual(closest('--epoch', ['--epochs', '--eval-every', '--lr']), ['--epochs']);
  assert.deepEqual(closest('persn', ['person', 'bicycle', 'car']), ['person']);
  assert.deepEqual(closest('dem0', KNOWN_MODEL_NAMES), ['demo']);
  assert.deepEqual(closest('xyzzy', ['person', 'car']), []);
  assert.equal(didYouMean('--lr-back', ['--lr', '--lr-backbone']), "did you mean '--lr-backbone'?");
});

test('detrlab train --epoch 3 answers "did you mean --epochs"; a far flag lists the flags', () => {
  assert.throws(
    () => parseFlags(['--epoch', '3'], TRAIN_SCHEMA),
    (e: Error) => isUserError(e) && /did you mean '--epochs'\?/.test(e.message),
  );
  assert.throws(
    () => parseFlags(['--qqqqqqqq'], TRAIN_SCHEMA),
    (e: Error) => /Valid flags: .*--epochs/.test(e.message),
  );
  assert.throws(
    () => parseFlags(['--batch-size', '0'], TRAIN_SCHEMA),
    (e: Error) => /^--batch-size must be ≥ 1/.test(e.message),
  );
});

test('an offline hub failure names the ways out; other errors pass through', () => {
  const e = hubFailure(
    'facebook/detr-resnet-50',
    new Error('download failed: getaddrinfo ENOTFOUND huggingface.co'),
  ) as Error;
  assert.ok(isUserError(e));
  for (const s of ['--model-name demo', '--weights FILE', 'HF_ENDPOINT']) assert.ok(e.message.includes(s), e.message);
  const missing = hubFailure('facebook/detr-resnet50', new Error('HTTP 404')) as Error;
  assert.match(missing.message, /did you mean 'facebook\/detr-resnet-50'/);
  const other = new Error('disk full');
  assert.equal(hubFailure('facebook/detr-resnet-50', other), other);
});
