/** The 95 % t-interval of Δ over seeds against scipy.stats.t.interval. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanCi95, tQuantile975 } from '../../lib/classify/interval.js';

test('meanCi95 equals scipy.stats.t.interval(0.95, n−1, mean, sem); one value has no interval', () => {
  // scipy: x = [0.01, 0.03, -0.005] → (-0.03195335800900897, 0.0552866913423423)
  const c = meanCi95([0.01, 0.03, -0.005])!;
  assert.ok(
    Math.abs(c.lo - -0.03195335800900897) < 1e-5 && Math.abs(c.hi - 0.0552866913423423) < 1e-5,
    JSON.stringify(c),
  );
  assert.ok(Math.abs(c.mean - 0.035 / 3) < 1e-12);
  assert.equal(meanCi95([0.2]), null);
  assert.deepEqual(meanCi95([0.1, 0.1]), { mean: 0.1, lo: 0.1, hi: 0.1, n: 2 });
  assert.equal(tQuantile975(1), 12.7062);
  assert.equal(tQuantile975(100), 1.96);
});
