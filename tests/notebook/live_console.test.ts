import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveConsole, progressText } from '../../lib/notebook/live_console.js';

test('progressText reads the tag-free text of a detrlab progress display, and its final flag', () => {
  const html =
    '<div class="detrlab-progress" data-final="1" style="x"><progress value="50"></progress> epoch 1/3 &lt;a&gt; &amp; b</div>';
  assert.deepEqual(progressText(html), { text: 'epoch 1/3 <a> & b', final: true });
  assert.equal(progressText('<table><tr><td>1</td></tr></table>'), undefined);
});

function make(isTty: boolean, quiet = false) {
  const out: string[] = [];
  let t = 0;
  const live = new LiveConsole({
    write: (s) => out.push(s),
    isTty,
    quiet,
    columns: 80,
    everyMs: 30_000,
    keepMs: 10_000,
    now: () => t,
  });
  return {
    out,
    live,
    at: (ms: number) => {
      t = ms;
    },
  };
}

test('terminal: one line redrawn in place; printed lines go above it; long finished bars stay', () => {
  const { out, live, at } = make(true);
  live.progress('[03]', 'd1', 'epoch 1/3 1/9 step', false);
  live.progress('[03]', 'd1', 'epoch 1/3 2/9 step', false);
  live.stream('[03]', '  epoch step\n');
  at(12_000);
  live.progress('[03]', 'd1', 'epoch 3/3 9/9 step in 12s', true);
  assert.deepEqual(out, [
    '\r\x1b[K[03] epoch 1/3 1/9 step',
    '\r\x1b[K[03] epoch 1/3 2/9 step',
    '\r\x1b[K',
    '[03]   epoch step\n',
    '[03] epoch 1/3 2/9 step',
    '\r\x1b[K',
    '[03] epoch 3/3 9/9 step in 12s\n',
  ]);
  // A short finished bar (validation) erases the live line and is not redrawn under the next printed line.
  out.length = 0;
  live.progress('[03]', 'v', 'val 1/8', false);
  live.progress('[03]', 'v', 'val 8/8 in 1s', true);
  live.stream('[03]', 'row\n');
  assert.deepEqual(out, ['\r\x1b[K[03] val 1/8', '\r\x1b[K', '[03] row\n']);
});

test('not a terminal: a progress line at most every 30 s, no carriage returns; quiet: nothing but runner lines', () => {
  const { out, live, at } = make(false);
  for (let s = 0; s <= 65; s += 5) {
    at(s * 1000);
    live.progress('[09]', 'd', `step ${s}`, false);
  }
  assert.deepEqual(out, ['[09] step 0\n', '[09] step 30\n', '[09] step 60\n']);
  assert.ok(out.every((l) => !l.includes('\r')));
  const q = make(false, true);
  q.live.progress('[09]', 'd', 'step 1', false);
  q.live.stream('[09]', 'hello\n');
  q.live.line('[notebooks] 09 ok');
  assert.deepEqual(q.out, ['[notebooks] 09 ok\n']);
});

test('stream text: split into lines across chunks; a carriage-return redraw keeps its last state', () => {
  const { out, live } = make(false);
  live.stream('[03]', 'a\nb');
  live.stream('[03]', 'c\nx 10%\rx 100%\n');
  assert.deepEqual(out, ['[03] a\n', '[03] bc\n', '[03] x 100%\n']);
});
