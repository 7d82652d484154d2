// Generic commands on any prunekit artifact (whatever method made it):
//   inspect DIR [--json]           what it is, sparsity per matrix, what exact compaction removes, size, lineage
//   compact DIR --out DIR          exact structural removal wherever masks or zero weights allow it
//   embed --model DIR --input F --out F   sentence embeddings (.npy or .jsonl) with the folder's pooling/normalisation
//                                  and prompts (--prompt-name / --prompt; an ONNX export folder runs on onnxruntime-node)
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  ArtifactError, EXPORT_FORMS, compactArtifact, formatInspection, initBackend, inspectArtifact, loadJsonl, openEncoder, writeNpyF32, writeFileAtomic,
  type ExportForm,
} from '@prunekit/tensor-core';
import type { CliContext } from '../util/context.js';
import { CliError, oneOf, positiveInt } from '@prunekit/cli-support';
import { checkModelDir } from '@prunekit/cli-support';
import { printJson } from '@prunekit/cli-support';

function asCliError(e: unknown): never {
  if (e instanceof ArtifactError) throw new CliError(e.message);
  throw e;
}

/** Texts from a .txt (one per non-empty line) or .jsonl ({"text": ...} per line) file. */
async function readTexts(file: string): Promise<string[]> {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new CliError(`--input ${file}: no such file`);
  if (file.endsWith('.jsonl')) return (await loadJsonl(file, { fields: { text: 'string' } })).map((r) => r.text);
  if (file.endsWith('.txt')) return fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  throw new CliError(`--input ${file}: expected a .txt (one text per line) or .jsonl ({"text": ...} per line) file`);
}

export function registerArtifact(program: Command, ctx: CliContext): void {
  program
    .command('inspect')
    .description('describe a prunekit artifact: kind, method, sparsity per matrix, structure exact compaction removes, size, lineage')
    .argument('<dir>', 'artifact folder (written by prunekit prune / compact)')
    .option('--json', 'print the description as JSON on stdout')
    .action(async (dir: string, o: { json?: boolean }) => {
      await initBackend({ warn: (l) => { ctx.io.err(`${l}\n`); } });
      let r;
      try {
        r = inspectArtifact(dir);
      } catch (e) {
        asCliError(e);
      }
      if (o.json) printJson(ctx.io, r);
      else ctx.io.out(formatInspection(r));
    });

  program
    .command('compact')
    .description('remove, exactly, the heads, dims and neurons an artifact\'s masks (or zero weights) leave without effect; writes a compacted-model artifact')
    .argument('<dir>', 'artifact folder')
    .requiredOption('--out <dir>', 'output artifact folder (written atomically)')
    .option('--form <form>', `prunekit (compacted shapes) or dense-compatible (zero-padded standard shapes any HF loader reads)`, oneOf('--form', EXPORT_FORMS), 'prunekit')
    .option('--json', 'print the new manifest as JSON on stdout')
    .action(async (dir: string, o: { out: string; form: ExportForm; json?: boolean }) => {
      if (path.resolve(o.out) === path.resolve(dir)) throw new CliError(`--out ${o.out}: is the input folder (the input is never overwritten)`);
      await initBackend({ warn: (l) => { ctx.io.err(`${l}\n`); } });
      let m;
      try {
        m = await compactArtifact(dir, { out: o.out, form: o.form });
      } catch (e) {
        asCliError(e);
      }
      if (o.json) printJson(ctx.io, m);
      else ctx.io.out(`compacted ${dir}: ${m.source.parameters} → ${m.parameters.stored} parameters; written to ${o.out}\n`);
    });

  program
    .command('embed')
    .description('sentence embeddings of texts with a model folder\'s pooling and normalisation, as .npy (float32 [n, d]) or .jsonl')
    .requiredOption('--model <dir>', 'model folder (any prunekit artifact or HF / sentence-transformers folder; an ONNX export folder runs on onnxruntime-node)')
    .requiredOption('--input <file>', 'texts: .txt (one per line) or .jsonl ({"text": ...} per line)')
    .requiredOption('--out <file>', 'output: .npy or .jsonl ({"text", "embedding"} per line), written atomically')
    .option('--batch-size <n>', 'texts per forward pass', positiveInt('--batch-size'), 32)
    .option('--prompt-name <name>', "prefix every text with this prompt of the folder's config_sentence_transformers.json (e.g. query), as sentence-transformers' encode(prompt_name=...); default: its default_prompt_name, if any")
    .option('--prompt <text>', 'prefix every text with this literal prompt (instead of a named one)')
    .action(async (o: { model: string; input: string; out: string; batchSize: number; promptName?: string; prompt?: string }) => {
      checkModelDir(o.model);
      if (!o.out.endsWith('.npy') && !o.out.endsWith('.jsonl')) throw new CliError(`--out ${o.out}: expected a .npy or .jsonl file name`);
      if (o.prompt !== undefined && o.promptName !== undefined) throw new CliError('--prompt and --prompt-name: give one of them, not both');
      const prompt = { ...(o.promptName !== undefined ? { promptName: o.promptName } : {}), ...(o.prompt !== undefined ? { prompt: o.prompt } : {}) };
      const texts = await readTexts(o.input);
      // a model folder runs on tfjs, an ONNX export folder (onnx/model.onnx, no safetensors) on onnxruntime-node
      const enc = await openEncoder(checkModelDir(o.model), { batchSize: o.batchSize, warn: (l) => { ctx.io.err(`${l}\n`); } });
      try {
        let used: string;
        try {
          used = enc.promptFor(prompt);
        } catch (e) {
          throw new CliError(`--prompt-name: ${(e as Error).message}`);
        }
        const rows = await enc.encode(texts, prompt);
        if (o.out.endsWith('.npy')) writeNpyF32(o.out, rows);
        else writeFileAtomic(o.out, rows.map((r, i) => JSON.stringify({ text: texts[i], embedding: Array.from(r) })).join('\n') + (rows.length ? '\n' : ''));
        const withPrompt = used === '' ? '' : `, prompt ${o.promptName !== undefined ? `"${o.promptName}"` : o.prompt !== undefined ? 'from --prompt' : 'default'} ${JSON.stringify(used)}`;
        ctx.io.err(`prunekit: ${rows.length} embeddings of dimension ${rows[0]?.length ?? 0} written to ${o.out} (${enc.runtime}${withPrompt})\n`);
      } finally {
        await enc.dispose();
      }
    });
}
