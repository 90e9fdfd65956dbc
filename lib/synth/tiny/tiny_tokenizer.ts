/**
 * CLIP-structured tokenizer files made by the project (for the tiny test models and the tests): the
 * vocabulary is laid out exactly as openai/CLIP `simple_tokenizer.py` lays out the real one — the 256
 * byte symbols (GPT-2 `bytes_to_unicode` order), the same 256 with `</w>`, one entry per merge, then
 * `<|startoftext|>`, `<|endoftext|>` — only with a few hundred merges instead of 48,894.
 */
import { BOS_TOKEN, EOS_TOKEN } from '../clip_tokenizer.js';

/** GPT-2 / CLIP `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the rest to U+0100…. */
export function bytesToUnicode(): string[] {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const order: Array<[number, string]> = [];
  for (let b = 0; b < 256; b++) if (keep(b)) order.push([b, String.fromCharCode(b)]);
  let n = 0;
  for (let b = 0; b < 256; b++) if (!keep(b)) order.push([b, String.fromCharCode(256 + n++)]);
  return order.map(([, c]) => c); // in CLIP's vocabulary order (printables first)
}

/** vocab.json content for a merge list (`"a b"` lines, in rank order). */
export function clipVocab(merges: string[]): Record<string, number> {
  const symbols = bytesToUnicode();
  const list = [
    ...symbols,
    ...symbols.map((s) => s + '</w>'),
    ...merges.map((m) => m.replace(' ', '')),
    BOS_TOKEN,
    EOS_TOKEN,
  ];
  const vocab: Record<string, number> = {};
  list.forEach((t, i) => {
    if (!(t in vocab)) vocab[t] = i;
  });
  return vocab;
}

/**
 * Merges that spell each word left to right (`p h`, `ph o`, `pho t`, `phot o</w>`), deduplicated in
 * first-use order: every word of `words` then tokenizes to one token. ASCII lower-case words only.
 */
export function mergesForWords(words: string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const w of words) {
    const chars = [...w.toLowerCase()];
    if (chars.length < 2) continue;
    let acc = chars[0];
    for (let i = 1; i < chars.length; i++) {
      const next = chars[i] + (i === chars.length - 1 ? '</w>' : '');
      const m = `${acc} ${next}`;
      if (!seen.has(m)) {
        seen.add(m);
        out.push(m);
      }
      acc += next;
    }
  }
  return out;
}

/** merges.txt text (with the `#version` header line CLIP's file has). */
export const mergesTxt = (merges: string[]): string => ['#version: 0.2', ...merges].join('\n') + '\n';
