/**
 * The CLIP BPE tokenizer of SD 1.x (openai/CLIP `clip/simple_tokenizer.py`; HF `CLIPTokenizer`), built
 * from a model folder's `vocab.json` + `merges.txt` and run by the maintained `@huggingface/tokenizers`
 * (tokenizers.js) with the same definition HF's `tokenizer.json` for openai/clip-vit-large-patch14 uses:
 *   normalise: NFC, whitespace runs → one space, lower-case     (CLIP: ftfy.fix_text, html.unescape ×2, whitespace_clean, lower)
 *   split:     's|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+   (matches kept, the rest dropped)
 *   bytes:     GPT-2 bytes_to_unicode, then BPE with `</w>` on each word's last symbol
 *   ids:       [bos] + first 75 tokens + [eos], padded to 77 with pad (SD 1.x pad = eos = <|endoftext|>)
 * Differences from openai/CLIP: ftfy's mojibake repair is not done (NFC is; ftfy's own default);
 * HTML entities are unescaped here by `unescapeHtml` for the common named and all numeric forms.
 * Special-token ids are read from the vocabulary (49406 / 49407 in SD 1.5's).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../params/user_error.js';
import { readJsonFile } from '../io/json_file.js';

export const CLIP_MAX_LENGTH = 77;
export const BOS_TOKEN = '<|startoftext|>';
export const EOS_TOKEN = '<|endoftext|>';
export const CLIP_SPLIT_REGEX = "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+";

interface HfTokenizer {
  encode(text: string, o?: { add_special_tokens?: boolean }): { ids: number[]; tokens: string[] };
}
type TokenizersModule = { Tokenizer: new (json: object, config: object) => HfTokenizer };

export interface ClipTokenizerFiles {
  vocab: Record<string, number>;
  merges: string[];
  padToken?: string;
}

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  private constructor(
    private readonly tok: HfTokenizer,
    ids: { bos: number; eos: number; pad: number },
    readonly maxLength: number,
  ) {
    this.bosId = ids.bos;
    this.eosId = ids.eos;
    this.padId = ids.pad;
  }

  /** Reads `<dir>/vocab.json`, `<dir>/merges.txt` and (if present) the pad token of `special_tokens_map.json`. */
  static async fromFolder(dir: string, maxLength = CLIP_MAX_LENGTH): Promise<ClipTokenizer> {
    return ClipTokenizer.fromFiles(readTokenizerFolder(dir), maxLength, dir);
  }

  static async fromFiles(
    f: ClipTokenizerFiles,
    maxLength = CLIP_MAX_LENGTH,
    where = 'tokenizer',
  ): Promise<ClipTokenizer> {
    const idOf = (t: string) => {
      const id = f.vocab[t];
      if (id === undefined) throw new UserError(`${where}: vocab.json has no '${t}' token (not a CLIP vocabulary)`);
      return id;
    };
    const ids = { bos: idOf(BOS_TOKEN), eos: idOf(EOS_TOKEN), pad: idOf(f.padToken ?? EOS_TOKEN) };
    const mod = (await import('@huggingface/tokenizers')) as unknown as TokenizersModule;
    const tok = new mod.Tokenizer(clipTokenizerJson(f.vocab, f.merges, ids), { clean_up_tokenization_spaces: true });
    return new ClipTokenizer(tok, ids, maxLength);
  }

  /** BPE tokens of a text (no specials), e.g. `['a</w>', 'photo</w>']`. */
  tokens(text: string): string[] {
    return this.tok.encode(unescapeHtml(text), { add_special_tokens: false }).tokens;
  }

  /** `input_ids` of length 77: bos, up to 75 token ids, eos, pad… (HF `padding="max_length", truncation=True`). */
  encode(text: string): number[] {
    const body = this.tok.encode(unescapeHtml(text), { add_special_tokens: false }).ids.slice(0, this.maxLength - 2);
    const ids = [this.bosId, ...body, this.eosId];
    while (ids.length < this.maxLength) ids.push(this.padId);
    return ids;
  }
}

/** The tokenizer.json HF writes for CLIP, assembled from the two files (added tokens = the two specials). */
export function clipTokenizerJson(
  vocab: Record<string, number>,
  merges: string[],
  ids: { bos: number; eos: number },
): object {
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(ids.bos, BOS_TOKEN), special(ids.eos, EOS_TOKEN)],
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'NFC' },
        { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
        { type: 'Lowercase' },
      ],
    },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: CLIP_SPLIT_REGEX }, behavior: 'Removed', invert: true },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'BPEDecoder', suffix: '</w>' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: EOS_TOKEN,
      continuing_subword_prefix: '',
      end_of_word_suffix: '</w>',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/** vocab.json + merges.txt (first line `#version…` skipped, blank lines dropped) + pad token. */
export function readTokenizerFolder(dir: string): ClipTokenizerFiles {
  const need = (f: string) => {
    const p = path.join(dir, f);
    if (!fs.existsSync(p))
      throw new UserError(`tokenizer folder ${dir} has no ${f} (a CLIP tokenizer needs vocab.json and merges.txt)`);
    return fs.readFileSync(p, 'utf8');
  };
  let vocab: Record<string, number>;
  try {
    vocab = JSON.parse(need('vocab.json')) as Record<string, number>;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${path.join(dir, 'vocab.json')} is not valid JSON: ${(e as Error).message}`);
  }
  const merges = need('merges.txt')
    .split('\n')
    .filter((l, i) => !(i === 0 && l.startsWith('#version')) && l.trim().length > 0);
  return { vocab, merges, padToken: readPadToken(dir) };
}

function readPadToken(dir: string): string | undefined {
  const p = path.join(dir, 'special_tokens_map.json');
  if (!fs.existsSync(p)) return undefined;
  const pad = readJsonFile<{ pad_token?: string | { content?: string } }>(p).pad_token;
  return typeof pad === 'string' ? pad : pad?.content;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Python `html.unescape` applied twice, for numeric entities and the common named ones. */
export function unescapeHtml(text: string): string {
  const once = (s: string) =>
    s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
      }
      return NAMED_ENTITIES[e.toLowerCase()] ?? m;
    });
  return once(once(text)).trim();
}
