// Hugging Face-identical tokenisation (BERT WordPiece, RoBERTa byte-level BPE, XLM-R Unigram).
export { Tokenizer } from './tokenizer.js';
export type {
  BatchEncodeOptions,
  BatchEncoding,
  EncodeOptions,
  Encoding,
  FromPretrainedOptions,
  SpecialIds,
  TextInput,
  TruncationStrategy,
} from './tokenizer.js';
export type { Family as TokenizerFamily, SpecialTokenStrings } from './folder.js';
