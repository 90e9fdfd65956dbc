/**
 * tiny-sd's tokenizer: the project's CLIP BPE tokenizer files (byte-level vocabulary + merges that spell the
 * prompt words and COCO's class names as whole tokens, lib/synth/tiny/tiny_tokenizer.ts), the same files the
 * tiny test models use. Written into the exported model folder as tokenizer/{vocab.json,merges.txt}.
 */
import { ClipTokenizerFiles, EOS_TOKEN } from '../synth/clip_tokenizer.js';
import { clipVocab, mergesForWords } from '../synth/tiny/tiny_tokenizer.js';
import { TINY_WORDS } from '../synth/tiny/tiny_folder.js';

export function tinySdTokenizerFiles(): ClipTokenizerFiles {
  const merges = mergesForWords(TINY_WORDS);
  return { vocab: clipVocab(merges), merges, padToken: EOS_TOKEN };
}
