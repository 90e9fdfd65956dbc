import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, formatHelp } from '../../lib/params/flags.js';
import { resolveParams, num, int, str, bool, oneOf, strList, toKebab, toCamel } from '../../lib/params/schema.js';
import { isUserError } from '../../lib/params/user_error.js';

const schema = {
  lrBackbone: num(1e-5, 'backbone learning rate', { min: 0 }),
  epochs: int(10, 'epochs', { min: 1 }),
  outputDir: str('runs/x', 'where'),
  amp: bool(false, 'amp'),
  profile: oneOf(['demo', 'coco'] as const, 'demo', 'profile'),
  classes: strList(['person'], 'classes'),
  param: {
    type: { kind: 'list' as const, of: 'string' as const, split: false },
    default: [] as string[],
    help: 'k=v',
    alias: 'p',
  },
};

const throwsUser = (f: () => unknown, re: RegExp) =>
  assert.throws(f, (e: unknown) => isUserError(e) && re.test((e as Error).message));

test('kebab/camel round trip', () => {
  assert.equal(toKebab('lrBackbone'), 'lr-backbone');
  assert.equal(toCamel('lr-backbone'), 'lrBackbone');
});

test('flags map onto the parameter object with types', () => {
  const r = parseFlags(
    [
      '--lr-backbone',
      '2e-5',
      '--epochs=3',
      '--amp',
      '--classes',
      'person',
      'traffic light',
      'car',
      '--profile',
      'coco',
    ],
    schema,
  );
  assert.deepEqual(r.params, {
    lrBackbone: 2e-5,
    epochs: 3,
    amp: true,
    classes: ['person', 'traffic light', 'car'],
    profile: 'coco',
  });
  assert.deepEqual(parseFlags(['--no-amp'], schema).params, { amp: false });
  assert.deepEqual(parseFlags(['--amp', 'false'], schema).params, { amp: false });
  assert.deepEqual(parseFlags(['--classes', 'a,b', '--classes', 'c'], schema).params, { classes: ['a', 'b', 'c'] });
  assert.deepEqual(parseFlags(['-p', 'a=1,2', '-p', 'b=x'], schema).params, { param: ['a=1,2', 'b=x'] });
  assert.deepEqual(parseFlags(['--epochs', '-1'], { epochs: int(1, 'e') }).params, { epochs: -1 });
  assert.equal(parseFlags(['--help'], schema).help, true);
});

test('bad input is a UserError naming the flag', () => {
  throwsUser(() => parseFlags(['--bogus', '1'], schema), /unknown flag '--bogus'.*--lr-backbone/);
  throwsUser(() => parseFlags(['--epochs', 'x'], schema), /--epochs must be an integer/);
  throwsUser(() => parseFlags(['--epochs', '1.5'], schema), /^--epochs must be an integer/);
  throwsUser(() => parseFlags(['--epochs', '0'], schema), /must be ≥ 1/);
  throwsUser(() => parseFlags(['--profile', 'x'], schema), /one of demo, coco/);
  throwsUser(() => parseFlags(['--epochs'], schema), /needs a value/);
});

test('resolveParams fills defaults and rejects unknown keys and bad types', () => {
  const p = resolveParams(schema, { epochs: 2 });
  assert.equal(p.epochs, 2);
  assert.equal(p.lrBackbone, 1e-5);
  assert.deepEqual(p.classes, ['person']);
  throwsUser(() => resolveParams(schema, { epoch: 2 } as never), /unknown parameters key 'epoch'/);
  throwsUser(() => resolveParams(schema, { epochs: '2' } as never), /'epochs' must be an integer/);
  throwsUser(() => resolveParams(schema, { lrBackbone: NaN }), /must be a number/);
});

test('help lists every flag with its default', () => {
  const h = formatHelp('usage: x', 'summary', schema);
  for (const f of ['--lr-backbone', '--epochs', '--output-dir', '--amp', '--profile <demo|coco>', '--classes'])
    assert.ok(h.includes(f), f);
  assert.ok(h.includes('(default: 10)'));
});
