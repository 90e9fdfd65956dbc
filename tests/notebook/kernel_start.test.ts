/**
 * KernelClient.start retries a kernel that fails to bind its ports (CI saw zeromq's "EBUSY: Socket is blocked
 * by a bind or unbind operation" and a kernel that never answered): the stuck kernel is killed and a new one
 * starts on fresh ports. A preamble simulates the failure on the first start only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KernelClient } from '../../lib/notebook/kernel_client.js';

/** Kernel-side code: on the first start (no marker yet) print zeromq's bind error, record the pid and hang. */
const failFirst = (marker: string): string =>
  `if (!require('fs').existsSync(${JSON.stringify(marker)})) {` +
  `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid));` +
  `console.error('Error: EBUSY: Socket is blocked by a bind or unbind operation'); setInterval(() => {}, 1000); } else`;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a kernel that cannot bind its ports is killed and the start is retried on fresh ports', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-kstart-'));
  const marker = path.join(dir, 'first-start.pid');
  const k = await KernelClient.start({ cwd: dir, js: true, preamble: failFirst(marker) });
  try {
    const first = Number(fs.readFileSync(marker, 'utf8'));
    assert.ok(first > 0 && !alive(first), 'the stuck first kernel is still running');
    const out: string[] = [];
    const r = await k.execute('console.log(6 * 7)', (type, content) => {
      if (type === 'stream') out.push(String(content.text));
    });
    assert.equal(r.status, 'ok');
    assert.match(out.join(''), /42/);
  } finally {
    await k.shutdown();
  }
});

test('when every start fails, the error says so and carries each attempt’s reason', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-kstart-'));
  await assert.rejects(
    KernelClient.start({
      cwd: dir,
      js: true,
      attempts: 2,
      startupTimeoutMs: 20_000,
      preamble: `if (true) { console.error('Error: EADDRINUSE: address already in use'); setInterval(() => {}, 1000); } else`,
    }),
    (e: Error) => /did not start \(2 attempts\)/.test(e.message) && (e.message.match(/EADDRINUSE/g) ?? []).length >= 2,
  );
});
