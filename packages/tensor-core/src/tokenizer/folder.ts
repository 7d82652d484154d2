// Reading a Hugging Face tokenizer folder and producing the tokenizer.json that transformers 5
// actually runs. transformers 5 does not run tokenizer.json verbatim for the model-specific classes
// (BertTokenizer, RobertaTokenizer, XLMRobertaTokenizer): it takes the vocabulary (and merges,
// post-processor, SentencePiece charsmap) from tokenizer.json and rebuilds normaliser,
// pre-tokeniser, model options, special tokens and post-processor from the class code and
// tokenizer_config.json (e.g. `do_lower_case`). We reproduce that rebuild here as JSON so that the
// Rust `tokenizers` core then gives the same ids as `AutoTokenizer`.
import fs from 'node:fs';
import path from 'node:path';
import { PrunekitError } from '../io/errors.js';
import { readTextFile } from '../io/text.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** transformers' "no limit" sentinel for model_max_length is int(1e30); anything this large means unset. */
const SENTINEL_THRESHOLD = 1e29;

export type Family = 'bert' | 'roberta' | 'xlm-roberta' | 'generic';

export interface SpecialTokenStrings {
  pad?: string;
  unk?: string;
  cls?: string;
  sep?: string;
  mask?: string;
  bos?: string;
  eos?: string;
}

export interface ResolvedTokenizer {
  /** The tokenizer.json (as an object) that reproduces transformers 5 for this folder. */
  json: JsonObject;
  family: Family;
  /** tokenizer_config.json's tokenizer_class, or null when absent. */
  tokenizerClass: string | null;
  /** model_max_length when it is a real limit, else null (absent or the 1e30 sentinel). */
  configMaxLength: number | null;
  /** max_position_embeddings (minus RoBERTa's padding offset) from a config.json beside it, else null. */
  positionLimit: number | null;
  specialTokens: SpecialTokenStrings;
  paddingSide: 'right' | 'left';
  /** Which files the tokenizer was built from (for messages and the README). */
  source: string[];
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readJson(file: string, expected: string): JsonObject {
  let text: string;
  try {
    text = readTextFile(file);
  } catch (e) {
    throw new PrunekitError(file, `${(e as Error).message.slice(file.length + 2)}; expected ${expected}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new PrunekitError(file, `not valid JSON (${(e as Error).message}); expected ${expected}`);
  }
  if (!isObject(parsed)) throw new PrunekitError(file, `the top level is not a JSON object; expected ${expected}`);
  return parsed;
}

function readOptionalJson(file: string, expected: string): JsonObject | null {
  return fs.existsSync(file) ? readJson(file, expected) : null;
}

/** A special-token entry in tokenizer_config.json or special_tokens_map.json: "x" or {content: "x", ...}. */
function tokenContent(v: Json | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

function familyOf(tokenizerClass: string | null): Family {
  const c = (tokenizerClass ?? '').replace(/Fast$/, '');
  if (c === 'BertTokenizer') return 'bert';
  if (c === 'RobertaTokenizer') return 'roberta';
  if (c === 'XLMRobertaTokenizer') return 'xlm-roberta';
  return 'generic';
}

const FAMILY_DEFAULTS: Record<Exclude<Family, 'generic'>, SpecialTokenStrings> = {
  bert: { unk: '[UNK]', sep: '[SEP]', pad: '[PAD]', cls: '[CLS]', mask: '[MASK]' },
  roberta: { bos: '<s>', eos: '</s>', sep: '</s>', cls: '<s>', unk: '<unk>', pad: '<pad>', mask: '<mask>' },
  'xlm-roberta': { bos: '<s>', eos: '</s>', sep: '</s>', cls: '<s>', unk: '<unk>', pad: '<pad>', mask: '<mask>' },
};

const SPECIAL_KEYS: [keyof SpecialTokenStrings, string][] = [
  ['bos', 'bos_token'],
  ['eos', 'eos_token'],
  ['unk', 'unk_token'],
  ['sep', 'sep_token'],
  ['pad', 'pad_token'],
  ['cls', 'cls_token'],
  ['mask', 'mask_token'],
];

function specialTokens(family: Family, cfg: JsonObject, map: JsonObject): SpecialTokenStrings {
  const out: SpecialTokenStrings = family === 'generic' ? {} : { ...FAMILY_DEFAULTS[family] };
  for (const [k, key] of SPECIAL_KEYS) {
    // tokenizer_config.json wins over special_tokens_map.json, which wins over the class defaults
    const v = tokenContent(cfg[key]) ?? tokenContent(map[key]);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Reads vocab.txt the way transformers does: one token per line, id = line number. */
function wordPieceVocabFromTxt(file: string): JsonObject {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const vocab: JsonObject = {};
  lines.forEach((line, i) => {
    const token = line.replace(/\r$/, '');
    if (!(token in vocab)) vocab[token] = i;
  });
  if (lines.length === 0) throw new Error(`${file}: empty; expected one WordPiece token per line`);
  return vocab;
}

function mergesFromTxt(file: string): Json[] {
  const merges: Json[] = [];
  for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#version')) continue;
    const parts = line.split(' ');
    if (parts.length !== 2) throw new Error(`${file}: bad merge line ${JSON.stringify(line)}; expected two tokens separated by a space`);
    merges.push(parts as Json[]);
  }
  return merges;
}

/**
 * The model section from tokenizer.json or, where there is none, from the slow-tokenizer files.
 * Returns the model JSON and the files used.
 */
function loadModel(dir: string, family: Family, tokJson: JsonObject | null): { model: JsonObject; source: string[] } {
  const tj = path.join(dir, 'tokenizer.json');
  if (tokJson) {
    if (!isObject(tokJson.model)) throw new Error(`${tj}: has no "model" object; expected a Hugging Face tokenizers serialisation`);
    return { model: tokJson.model, source: ['tokenizer.json'] };
  }
  const has = (f: string): boolean => fs.existsSync(path.join(dir, f));
  const howTo =
    `produce it with Python: \`from transformers import AutoTokenizer; ` +
    `AutoTokenizer.from_pretrained("${dir}").save_pretrained("${dir}")\``;
  if (family === 'xlm-roberta' || has('sentencepiece.bpe.model') || has('spiece.model')) {
    throw new Error(
      `${tj} is missing: SentencePiece tokenizers (XLM-R) need tokenizer.json, the .model file cannot be read here; ${howTo}`,
    );
  }
  if (has('vocab.txt') && (family === 'bert' || family === 'generic')) {
    return { model: { type: 'WordPiece', vocab: wordPieceVocabFromTxt(path.join(dir, 'vocab.txt')) }, source: ['vocab.txt'] };
  }
  if (has('vocab.json') || has('merges.txt')) {
    for (const f of ['vocab.json', 'merges.txt']) {
      if (!has(f)) throw new Error(`${path.join(dir, f)} is missing: a byte-level BPE tokenizer without tokenizer.json needs vocab.json and merges.txt`);
    }
    const vocab = readJson(path.join(dir, 'vocab.json'), 'a {token: id} object (BPE vocabulary)');
    return { model: { type: 'BPE', vocab, merges: mergesFromTxt(path.join(dir, 'merges.txt')) }, source: ['vocab.json', 'merges.txt'] };
  }
  throw new Error(
    `${tj} is missing and there is no fallback: expected tokenizer.json, or vocab.txt (BERT WordPiece), ` +
      `or vocab.json + merges.txt (RoBERTa BPE) in ${dir}; ${howTo}`,
  );
}

function vocabId(model: JsonObject, token: string): number | undefined {
  const v = model.vocab;
  if (isObject(v)) {
    const id = v[token];
    return typeof id === 'number' ? id : undefined;
  }
  if (Array.isArray(v)) {
    const i = v.findIndex((e) => Array.isArray(e) && e[0] === token);
    return i >= 0 ? i : undefined;
  }
  return undefined;
}

function vocabSize(model: JsonObject): number {
  const v = model.vocab;
  if (Array.isArray(v)) return v.length;
  if (isObject(v)) return Object.keys(v).length;
  return 0;
}

interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/**
 * The added tokens transformers 5 registers after rebuilding a model-specific class: the entries of
 * tokenizer_config.json's added_tokens_decoder, then every named special token and additional
 * special token not yet present. An id comes from the vocabulary when the token is in it, else it
 * is the next free id after the vocabulary (as the Rust AddedVocabulary assigns them).
 */
function rebuiltAddedTokens(model: JsonObject, cfg: JsonObject, specials: SpecialTokenStrings): AddedTokenJson[] {
  const out: AddedTokenJson[] = [];
  const size = vocabSize(model);
  let next = size;
  const add = (content: string, flags: Partial<AddedTokenJson>): void => {
    if (out.some((t) => t.content === content)) return;
    let id = vocabId(model, content);
    if (id === undefined) id = next++;
    out.push({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...flags });
  };
  const decoder = cfg.added_tokens_decoder;
  if (isObject(decoder)) {
    const entries = Object.entries(decoder).sort((a, b) => Number(a[0]) - Number(b[0]));
    for (const [, v] of entries) {
      if (!isObject(v) || typeof v.content !== 'string') continue;
      const special = v.special !== false;
      add(v.content, {
        single_word: v.single_word === true,
        lstrip: v.lstrip === true,
        rstrip: v.rstrip === true,
        // AddedToken's default: normalized = not special
        normalized: typeof v.normalized === 'boolean' ? v.normalized : !special,
        special,
      });
    }
  }
  for (const [k] of SPECIAL_KEYS) {
    const t = specials[k];
    if (t !== undefined) add(t, {});
  }
  for (const key of ['additional_special_tokens', 'extra_special_tokens']) {
    const list = cfg[key];
    if (Array.isArray(list)) for (const v of list) {
      const t = tokenContent(v);
      if (t !== undefined) add(t, {});
    }
  }
  return out;
}

function bool(v: Json | undefined, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

function idOrDefault(model: JsonObject, added: AddedTokenJson[], token: string | undefined, dflt: number): number {
  if (token === undefined) return dflt;
  return added.find((t) => t.content === token)?.id ?? vocabId(model, token) ?? dflt;
}

/** Finds a Precompiled (SentencePiece charsmap) normaliser in a tokenizer.json normaliser, alone or in a Sequence. */
function precompiledNormalizer(n: Json | undefined): JsonObject | null {
  if (!isObject(n)) return null;
  if (n.type === 'Precompiled') return n;
  if (n.type === 'Sequence' && Array.isArray(n.normalizers)) {
    for (const m of n.normalizers) if (isObject(m) && m.type === 'Precompiled') return m;
  }
  return null;
}

function rebuild(family: Exclude<Family, 'generic'>, model: JsonObject, tokJson: JsonObject | null, cfg: JsonObject, specials: SpecialTokenStrings): JsonObject {
  const added = rebuiltAddedTokens(model, cfg, specials);
  const base = { version: '1.0', truncation: null, padding: null, added_tokens: added as unknown as Json };
  if (family === 'bert') {
    if (!isObject(model.vocab)) throw new Error('BertTokenizer: the WordPiece vocabulary is not a {token: id} object');
    const cls = specials.cls ?? '[CLS]';
    const sep = specials.sep ?? '[SEP]';
    const clsId = idOrDefault(model, added, cls, 2);
    const sepId = idOrDefault(model, added, sep, 3);
    return {
      ...base,
      normalizer: {
        type: 'BertNormalizer',
        clean_text: true,
        handle_chinese_chars: bool(cfg.tokenize_chinese_chars, true),
        strip_accents: typeof cfg.strip_accents === 'boolean' ? cfg.strip_accents : null,
        lowercase: bool(cfg.do_lower_case, true),
      },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      model: { type: 'WordPiece', unk_token: specials.unk ?? '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: model.vocab },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: cls, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: sep, type_id: 0 } }],
        pair: [
          { SpecialToken: { id: cls, type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: sep, type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
          { SpecialToken: { id: sep, type_id: 1 } },
        ],
        special_tokens: {
          [cls]: { id: cls, ids: [clsId], tokens: [cls] },
          [sep]: { id: sep, ids: [sepId], tokens: [sep] },
        },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    };
  }
  if (family === 'roberta') {
    if (!isObject(model.vocab) || !Array.isArray(model.merges)) throw new Error('RobertaTokenizer: expected a BPE vocabulary and merges');
    const addPrefixSpace = bool(cfg.add_prefix_space, false);
    const cls = specials.cls ?? '<s>';
    const sep = specials.sep ?? '</s>';
    return {
      ...base,
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab: model.vocab,
        merges: model.merges,
      },
      post_processor: {
        type: 'RobertaProcessing',
        sep: [sep, idOrDefault(model, added, sep, 2)],
        cls: [cls, idOrDefault(model, added, cls, 0)],
        trim_offsets: bool(cfg.trim_offsets, true),
        add_prefix_space: addPrefixSpace,
      },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    };
  }
  // XLM-RoBERTa: Unigram with unk id 3 (hard-coded in the class), the charsmap if tokenizer.json has one
  if (!Array.isArray(model.vocab)) throw new Error('XLMRobertaTokenizer: expected a Unigram vocabulary ([piece, score] list)');
  const prepend = bool(cfg.add_prefix_space, true) ? 'always' : 'never';
  const bos = specials.bos ?? '<s>';
  const eos = specials.eos ?? '</s>';
  const bosId = idOrDefault(model, added, bos, 0);
  const eosId = idOrDefault(model, added, eos, 2);
  const sp = (id: string): Json => ({ SpecialToken: { id, type_id: 0 } });
  const seq = (id: string): Json => ({ Sequence: { id, type_id: 0 } });
  return {
    ...base,
    normalizer: precompiledNormalizer(tokJson?.normalizer),
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: prepend, split: true }],
    },
    model: { type: 'Unigram', unk_id: 3, vocab: model.vocab, byte_fallback: false },
    post_processor: {
      type: 'TemplateProcessing',
      single: [sp(bos), seq('A'), sp(eos)],
      pair: [sp(bos), seq('A'), sp(eos), sp(eos), seq('B'), sp(eos)],
      special_tokens: {
        [bos]: { id: bos, ids: [bosId], tokens: [bos] },
        [eos]: { id: eos, ids: [eosId], tokens: [eos] },
      },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: prepend, split: true },
  };
}

/** Reads a Hugging Face tokenizer folder; throws an Error naming the file and what was expected. */
export function resolveTokenizerFolder(dir: string): ResolvedTokenizer {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new Error(`${dir}: tokenizer folder does not exist; expected a Hugging Face model or tokenizer folder`);
  }
  if (!stat.isDirectory()) throw new Error(`${dir}: not a folder; expected a Hugging Face model or tokenizer folder`);

  const cfg = readOptionalJson(path.join(dir, 'tokenizer_config.json'), 'the Hugging Face tokenizer_config.json object') ?? {};
  const map = readOptionalJson(path.join(dir, 'special_tokens_map.json'), 'the Hugging Face special_tokens_map.json object') ?? {};
  const modelCfg = readOptionalJson(path.join(dir, 'config.json'), 'the Hugging Face model config.json object');
  const tjPath = path.join(dir, 'tokenizer.json');
  const tokJson = fs.existsSync(tjPath) ? readJson(tjPath, 'a Hugging Face tokenizers serialisation (tokenizer.json)') : null;

  const tokenizerClass = typeof cfg.tokenizer_class === 'string' ? cfg.tokenizer_class : null;
  let family = familyOf(tokenizerClass);
  if (family === 'generic' && tokenizerClass === null && !tokJson) {
    // no class and only slow files: infer the family from which files are there
    family = fs.existsSync(path.join(dir, 'vocab.txt')) ? 'bert' : fs.existsSync(path.join(dir, 'vocab.json')) ? 'roberta' : 'generic';
  }
  const specials = specialTokens(family, cfg, map);
  const { model, source } = loadModel(dir, family, tokJson);

  let json: JsonObject;
  if (family === 'generic') {
    if (!tokJson) throw new Error(`${tjPath} is missing: tokenizer class ${tokenizerClass ?? '(none)'} is only supported from tokenizer.json`);
    // transformers 5 runs tokenizer.json as it is for generic classes; truncation and padding are ours
    json = { ...tokJson, truncation: null, padding: null };
    if (specials.pad === undefined && isObject(tokJson.padding) && typeof tokJson.padding.pad_token === 'string') {
      specials.pad = tokJson.padding.pad_token;
    }
  } else {
    json = rebuild(family, model, tokJson, cfg, specials);
  }

  const mml = cfg.model_max_length;
  const configMaxLength = typeof mml === 'number' && mml > 0 && mml < SENTINEL_THRESHOLD ? Math.floor(mml) : null;
  let positionLimit: number | null = null;
  if (modelCfg && typeof modelCfg.max_position_embeddings === 'number') {
    // RoBERTa-style models start position ids after the padding index, losing pad_token_id + 1 positions
    const offsetTypes = new Set(['roberta', 'xlm-roberta', 'camembert']);
    const offset = typeof modelCfg.model_type === 'string' && offsetTypes.has(modelCfg.model_type) && typeof modelCfg.pad_token_id === 'number' ? modelCfg.pad_token_id + 1 : 0;
    positionLimit = modelCfg.max_position_embeddings - offset;
  }
  return {
    json,
    family,
    tokenizerClass,
    configMaxLength,
    positionLimit,
    specialTokens: specials,
    paddingSide: cfg.padding_side === 'left' ? 'left' : 'right',
    source,
  };
}
