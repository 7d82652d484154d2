// Tokenisation identical to Hugging Face: the Rust `tokenizers` core (npm `tokenizers`, the same
// crate and version as Python's `tokenizers`) runs the tokenizer.json that transformers 5 would run
// for the folder (see folder.ts). Truncation is the core's own (HF semantics); padding is done here
// into one row-major [batch, length] buffer, ready for tf.tensor2d.
import { createRequire } from 'node:module';
import { resolveTokenizerFolder, type Family, type SpecialTokenStrings } from './folder.js';

// The package's generated typings reference undeclared types, so we describe the part we use.
interface NativeEncoding {
  getIds(): number[];
  getTypeIds(): number[];
  getAttentionMask(): number[];
  getSpecialTokensMask(): number[];
  getTokens(): string[];
}
interface NativeTokenizer {
  encode(sentence: string, pair?: string | null, options?: { addSpecialTokens?: boolean }): Promise<NativeEncoding>;
  encodeBatch(sentences: string[], options?: { addSpecialTokens?: boolean }): Promise<NativeEncoding[]>;
  setTruncation(maxLength: number, options?: { strategy?: string; direction?: string; stride?: number }): void;
  tokenToId(token: string): number | null;
  idToToken(id: number): string | null;
  getVocabSize(withAddedTokens?: boolean): number;
}
interface NativeModule {
  Tokenizer: { fromString(json: string): NativeTokenizer };
}
const native = createRequire(import.meta.url)('tokenizers') as NativeModule;

export type TruncationStrategy = 'longest_first' | 'only_first' | 'only_second';

export interface EncodeOptions {
  /** Length limit for truncation and for `padding: 'max_length'`. Default: `tokenizer.modelMaxLength`. */
  maxLength?: number;
  /** Default `true` (= 'longest_first' at maxLength), as `truncation=True` in transformers. */
  truncation?: boolean | TruncationStrategy;
  /** Add [CLS]/[SEP] or <s>/</s> around the text. Default true. */
  addSpecialTokens?: boolean;
}

export interface BatchEncodeOptions extends EncodeOptions {
  /** 'longest' (default): pad to the longest row; 'max_length': pad to maxLength (longer rows, if untruncated, widen the batch). */
  padding?: 'longest' | 'max_length';
}

/** One encoded text or pair, unpadded. */
export interface Encoding {
  ids: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
  specialTokensMask: Int32Array;
  tokens: string[];
  length: number;
}

/**
 * A padded batch in row-major [batchSize, seqLength] layout: row i is
 * inputIds.subarray(i * seqLength, (i + 1) * seqLength). `lengths[i]` is row i's unpadded length.
 */
export interface BatchEncoding {
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
  lengths: Int32Array;
  batchSize: number;
  seqLength: number;
  shape: [number, number];
}

export interface SpecialIds {
  pad?: number;
  cls?: number;
  sep?: number;
  mask?: number;
  unk?: number;
  bos?: number;
  eos?: number;
}

export interface FromPretrainedOptions {
  /** Used when tokenizer_config.json gives no model_max_length (or HF's 1e30 sentinel). Default 512. */
  fallbackMaxLength?: number;
}

const STRATEGY: Record<TruncationStrategy, string> = {
  longest_first: 'LongestFirst',
  only_first: 'OnlyFirst',
  only_second: 'OnlySecond',
};

export type TextInput = string | readonly [string, string];

export class Tokenizer {
  /** Length limit used when EncodeOptions.maxLength is not given. */
  readonly modelMaxLength: number;
  /** Vocabulary size including added tokens (the embedding rows the ids index). */
  readonly vocabSize: number;
  readonly specialIds: Readonly<SpecialIds>;
  readonly specialTokens: Readonly<SpecialTokenStrings>;
  /** Which transformers 5 class behaviour is reproduced: 'bert' | 'roberta' | 'xlm-roberta' | 'generic' (tokenizer.json as is). */
  readonly family: Family;
  readonly paddingSide: 'right' | 'left';
  private readonly json: string;
  // Truncation is state on a native tokenizer and encode() is asynchronous, so each setting gets
  // its own instance rather than being switched under a call in flight.
  private readonly instances = new Map<string, NativeTokenizer>();

  private constructor(dir: string, opts: FromPretrainedOptions) {
    const r = resolveTokenizerFolder(dir);
    this.json = JSON.stringify(r.json);
    let base: NativeTokenizer;
    try {
      base = native.Tokenizer.fromString(this.json);
    } catch (e) {
      throw new Error(`${dir}: the tokenizer built from ${r.source.join(' + ')} was rejected by the tokenizers core: ${(e as Error).message}`);
    }
    this.instances.set('none', base);
    this.family = r.family;
    this.paddingSide = r.paddingSide;
    this.specialTokens = r.specialTokens;
    const fallback = opts.fallbackMaxLength ?? 512;
    const limit = r.configMaxLength ?? fallback;
    this.modelMaxLength = r.positionLimit !== null ? Math.min(limit, r.positionLimit) : limit;
    this.vocabSize = base.getVocabSize(true);
    const ids: SpecialIds = {};
    for (const [k, t] of Object.entries(r.specialTokens) as [keyof SpecialIds, string | undefined][]) {
      if (t === undefined) continue;
      const id = base.tokenToId(t);
      if (id !== null) ids[k] = id;
    }
    this.specialIds = ids;
  }

  /**
   * Loads a Hugging Face model or tokenizer folder: tokenizer.json (preferred), tokenizer_config.json,
   * special_tokens_map.json, else vocab.txt (BERT) or vocab.json + merges.txt (RoBERTa).
   */
  static fromPretrained(dir: string, opts: FromPretrainedOptions = {}): Promise<Tokenizer> {
    // async for the caller's sake (a later version may read files asynchronously); the work is
    // synchronous, and its errors are delivered as a rejection
    try {
      return Promise.resolve(new Tokenizer(dir, opts));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  tokenToId(token: string): number | undefined {
    return this.instances.get('none')!.tokenToId(token) ?? undefined;
  }

  idToToken(id: number): string | undefined {
    return this.instances.get('none')!.idToToken(id) ?? undefined;
  }

  /** Encodes one text or a pair, unpadded. An empty `pair` counts as no pair, as in transformers. */
  async encode(text: string, pair?: string | null, opts: EncodeOptions = {}): Promise<Encoding> {
    const tok = this.instance(opts);
    // transformers' __call__ drops a falsy text_pair for a single input
    const enc = await tok.encode(text, pair === undefined || pair === '' ? null : pair, { addSpecialTokens: opts.addSpecialTokens ?? true });
    return toEncoding(enc);
  }

  /** Encodes texts or pairs and pads them into one [batch, length] layout. Pairs keep an empty second part. */
  async encodeBatch(inputs: readonly TextInput[], opts: BatchEncodeOptions = {}): Promise<BatchEncoding> {
    const tok = this.instance(opts);
    const options = { addSpecialTokens: opts.addSpecialTokens ?? true };
    let encs: NativeEncoding[];
    if (inputs.every((x): x is string => typeof x === 'string')) {
      encs = await tok.encodeBatch([...inputs], options);
    } else {
      // the core's encodeBatch takes single strings only; pairs go one by one (still run in parallel)
      encs = await Promise.all(inputs.map((x) => (typeof x === 'string' ? tok.encode(x, null, options) : tok.encode(x[0], x[1], options))));
    }
    return this.pad(encs.map(toRow), opts);
  }

  private instance(opts: EncodeOptions): NativeTokenizer {
    const t = opts.truncation ?? true;
    if (t === false) return this.instances.get('none')!;
    const strategy: TruncationStrategy = t === true ? 'longest_first' : t;
    const maxLength = opts.maxLength ?? this.modelMaxLength;
    if (!Number.isInteger(maxLength) || maxLength <= 0) throw new Error(`maxLength must be a positive integer, got ${maxLength}`);
    if (!(strategy in STRATEGY)) throw new Error(`unknown truncation strategy ${strategy as string}; expected ${Object.keys(STRATEGY).join(', ')}`);
    const key = `${strategy}:${maxLength}`;
    let tok = this.instances.get(key);
    if (!tok) {
      tok = native.Tokenizer.fromString(this.json);
      tok.setTruncation(maxLength, { strategy: STRATEGY[strategy], direction: 'right', stride: 0 });
      this.instances.set(key, tok);
    }
    return tok;
  }

  private pad(rows: Row[], opts: BatchEncodeOptions): BatchEncoding {
    const padding = opts.padding ?? 'longest';
    const longest = rows.reduce((m, r) => Math.max(m, r.length), 0);
    const seqLength = padding === 'max_length' ? Math.max(longest, opts.maxLength ?? this.modelMaxLength) : longest;
    const needsPad = rows.some((r) => r.length < seqLength);
    const padId = this.specialIds.pad;
    if (needsPad && padId === undefined) throw new Error('padding needs a pad token, and this tokenizer has none (pad_token in tokenizer_config.json)');
    const n = rows.length * seqLength;
    const inputIds = new Int32Array(n).fill(padId ?? 0);
    const attentionMask = new Int32Array(n);
    const tokenTypeIds = new Int32Array(n); // pad_token_type_id is 0 for every supported family
    const lengths = new Int32Array(rows.length);
    rows.forEach((r, i) => {
      const at = i * seqLength + (this.paddingSide === 'left' ? seqLength - r.length : 0);
      inputIds.set(r.ids, at);
      attentionMask.set(r.attentionMask, at);
      tokenTypeIds.set(r.tokenTypeIds, at);
      lengths[i] = r.length;
    });
    return { inputIds, attentionMask, tokenTypeIds, lengths, batchSize: rows.length, seqLength, shape: [rows.length, seqLength] };
  }
}

type Row = Pick<Encoding, 'ids' | 'attentionMask' | 'tokenTypeIds' | 'length'>;

/** What a batch needs; tokens and the special-token mask are skipped (their conversion costs ~15%). */
function toRow(e: NativeEncoding): Row {
  const ids = Int32Array.from(e.getIds());
  return { ids, attentionMask: Int32Array.from(e.getAttentionMask()), tokenTypeIds: Int32Array.from(e.getTypeIds()), length: ids.length };
}

function toEncoding(e: NativeEncoding): Encoding {
  const ids = Int32Array.from(e.getIds());
  return {
    ids,
    attentionMask: Int32Array.from(e.getAttentionMask()),
    tokenTypeIds: Int32Array.from(e.getTypeIds()),
    specialTokensMask: Int32Array.from(e.getSpecialTokensMask()),
    tokens: e.getTokens(),
    length: ids.length,
  };
}
