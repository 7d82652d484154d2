// A cheap up-front check of a model folder (config.json, the tokenizer, every weight file's header and
// the word embeddings' size), so a run over several models finds a broken one before it computes
// anything, with the message naming the file.
import fs from 'node:fs';
import { SafetensorsFile } from '../io/safetensors.js';
import { Tokenizer } from '../tokenizer/index.js';
import { architectureOf, readConfig } from './config.js';
import { ModelFolderError, weightFiles } from './load.js';
import { decoderNames, detectPrefix, embeddingNames } from './names.js';

/** Validates a model folder without loading its weights; throws a PrunekitError naming the file. */
export async function checkModelFolder(dir: string): Promise<void> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ModelFolderError(dir, 'not a folder');
  const config = readConfig(dir);
  const files = weightFiles(dir);
  const names = new Map<string, { file: string; shape: number[] }>();
  for (const file of files) {
    const st = SafetensorsFile.open(file);
    try {
      for (const e of st.entries.values()) names.set(e.name, { file, shape: e.shape });
    } finally {
      st.close();
    }
  }
  const prefix = detectPrefix(config.modelType, new Set(names.keys()));
  const decoder = architectureOf(config).family === 'decoder';
  if (prefix === null) {
    throw new ModelFolderError(files[0]!, decoder
      ? 'no embed_tokens.weight tensor (with or without a model. prefix): not a Qwen3/Llama/Mistral checkpoint'
      : 'no embeddings.word_embeddings.weight tensor (with or without a bert./roberta. prefix): not a BERT-family checkpoint');
  }
  const word = names.get(decoder ? decoderNames(prefix).word : embeddingNames(prefix).word)!;
  if (word.shape[0] !== config.vocabSize) {
    throw new ModelFolderError(word.file, `word embeddings have ${word.shape[0]} rows; config.json vocab_size is ${config.vocabSize}`);
  }
  const tokenizer = await Tokenizer.fromPretrained(dir);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new ModelFolderError(dir, `the tokenizer has ${tokenizer.vocabSize} tokens but the word embeddings have ${config.vocabSize} rows (config.json vocab_size); the tokenizer does not belong to these weights`);
  }
}
