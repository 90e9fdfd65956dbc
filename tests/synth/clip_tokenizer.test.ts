/**
 * CLIP tokenizer on a small generated vocabulary laid out like CLIP's (256 bytes, 256 bytes + </w>,
 * merges, bos, eos) against BPE worked by hand, and against a reference written here from openai/CLIP
 * `simple_tokenizer.py`'s algorithm (repeatedly merge every occurrence of the lowest-ranked bigram).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ClipTokenizer, unescapeHtml } from '../../lib/synth/clip_tokenizer.js';
import { bytesToUnicode, clipVocab, mergesForWords, mergesTxt } from '../../lib/synth/tiny/tiny_tokenizer.js';
import { isUserError } from '../../lib/params/user_error.js';
import { Rng } from '../../lib/engine/rng.js';

const MERGES = ['h e', 'l o</w>', 'he l', 'hel lo</w>', 'l l', 'o r', 'w or', 'wor l', 'worl d</w>'];
const vocab = clipVocab(MERGES);
const byteId = (ch: string) => bytesToUnicode().indexOf(ch); // '!' = 0 … as in CLIP's vocab.json
const tok = ClipTokenizer.fromFiles({ vocab, merges: MERGES });

test('vocabulary layout: bytes, bytes</w>, merges, then the specials', async () => {
  assert.equal(byteId('!'), 0);
  assert.equal(vocab['l'], byteId('l'));
  assert.equal(vocab['l</w>'], 256 + byteId('l'));
  assert.equal(vocab['hello</w>'], 512 + 3);
  const t = await tok;
  assert.equal(t.bosId, 512 + MERGES.length);
  assert.equal(t.eosId, 512 + MERGES.length + 1);
  assert.equal(t.padId, t.eosId); // SD 1.x: pad = <|endoftext|>
});

test('hand-worked BPE: hello → one token; hell → hel + l</w>; "ll" inside a word', async () => {
  const t = await tok;
  // hello: h e l l o</w> —(h e, rank 0)→ he l l o</w> —(l o</w>, 1)→ he l lo</w> —(he l, 2)→ hel lo</w> —(3)→ hello</w>
  assert.deepEqual(t.tokens('hello'), ['hello</w>']);
  // hell: h e l l</w> → he l l</w> → hel l</w>; (hel, l</w>) is no merge
  assert.deepEqual(t.tokens('hell'), ['hel', 'l</w>']);
  // hellworld: … hel l w o r l d</w>: (l l) is rank 4 but 'he l' (2) fires first, so 'll' never forms
  assert.deepEqual(t.tokens('hellworld'), ['hel', 'l', 'world</w>']);
  assert.deepEqual(t.encode('hello world').slice(0, 4), [t.bosId, 515, 512 + 8, t.eosId]);
});

test('normalisation and the CLIP split: lower-case, whitespace, punctuation runs, single digits, contractions', async () => {
  const t = await tok;
  assert.deepEqual(t.tokens('  HELLO,\n\tWorld!! '), ['hello</w>', ',</w>', 'world</w>', '!', '!</w>']);
  assert.deepEqual(t.tokens("it's 42"), ['i', 't</w>', "'", 's</w>', '4</w>', '2</w>']);
  assert.deepEqual(t.tokens('é'), ['Ã', '©</w>']); // UTF-8 bytes 0xC3 0xA9 via bytes_to_unicode
  assert.equal(unescapeHtml('a &amp;amp; b &#33;'), 'a & b !'); // html.unescape twice
});

test('77 ids: bos, tokens, eos, pad; long prompts keep 75 tokens and end with eos', async () => {
  const t = await tok;
  const ids = t.encode('hello');
  assert.equal(ids.length, 77);
  assert.deepEqual(ids.slice(0, 3), [t.bosId, 515, t.eosId]);
  assert.ok(ids.slice(3).every((i) => i === t.padId));
  const long = t.encode(Array(100).fill('hello').join(' '));
  assert.equal(long.length, 77);
  assert.equal(long[75], 515);
  assert.equal(long[76], t.eosId);
});

/** openai/CLIP simple_tokenizer.bpe, written from its description. */
function referenceBpe(word: string[], ranks: Map<string, number>): string[] {
  let w = [...word];
  for (;;) {
    let best: [string, string] | undefined,
      bestRank = Infinity;
    for (let i = 0; i + 1 < w.length; i++) {
      const r = ranks.get(`${w[i]} ${w[i + 1]}`);
      if (r !== undefined && r < bestRank) {
        bestRank = r;
        best = [w[i], w[i + 1]];
      }
    }
    if (!best) return w;
    const next: string[] = [];
    for (let i = 0; i < w.length;) {
      if (i + 1 < w.length && w[i] === best[0] && w[i + 1] === best[1]) {
        next.push(best[0] + best[1]);
        i += 2;
      } else next.push(w[i++]);
    }
    w = next;
  }
}

test('random words over a small alphabet tokenize as the reference BPE does', async () => {
  const merges = mergesForWords(['aab', 'abab', 'bba', 'ab', 'ba', 'aaa', 'baab']);
  const t = await ClipTokenizer.fromFiles({ vocab: clipVocab(merges), merges });
  const ranks = new Map(merges.map((m, i) => [m, i]));
  const rng = new Rng(5);
  for (let n = 0; n < 300; n++) {
    const len = rng.int(1, 7);
    const word = Array.from({ length: len }, () => rng.pick(['a', 'b']));
    const symbols = [...word.slice(0, -1), word[len - 1] + '</w>'];
    assert.deepEqual(t.tokens(word.join('')), referenceBpe(symbols, ranks), word.join(''));
  }
});

test('folder loading: merges.txt header skipped, pad token from special_tokens_map.json, missing files named', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detrlab-tok-'));
  await assert.rejects(
    ClipTokenizer.fromFolder(dir),
    (e) => isUserError(e) && /vocab\.json/.test((e as Error).message),
  );
  fs.writeFileSync(path.join(dir, 'vocab.json'), JSON.stringify(vocab));
  fs.writeFileSync(path.join(dir, 'merges.txt'), mergesTxt(MERGES));
  fs.writeFileSync(path.join(dir, 'special_tokens_map.json'), JSON.stringify({ pad_token: { content: '!' } }));
  const t = await ClipTokenizer.fromFolder(dir);
  assert.deepEqual(t.tokens('hello'), ['hello</w>']);
  assert.equal(t.padId, 0); // SD 2.x style pad "!"
});
