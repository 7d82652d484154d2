// `prunekit export DIR --format onnx --out DIR2`: a model folder (dense, masked or compacted) as a
// portable ONNX folder that onnxruntime (Node, Python) and transformers.js load as is.
import path from 'node:path';
import type { Command } from 'commander';
import { exportOnnx, initBackend, type PoolingConfig, type PoolingMode } from '@prunekit/tensor-core';
import type { CliContext } from '../util/context.js';
import { CliError, checkModelDir, numberFlag, oneOf, printJson } from '@prunekit/cli-support';

const FORMATS = ['onnx'] as const;
const POOLING_MODES: readonly PoolingMode[] = ['mean', 'cls', 'max', 'lasttoken'];

interface ExportOptions {
  format: (typeof FORMATS)[number];
  out: string;
  pooling?: PoolingMode;
  normalize?: boolean;
  externalDataThreshold?: number;
  json?: boolean;
}

export function registerExport(program: Command, ctx: CliContext): void {
  program
    .command('export')
    .description('export a model folder (dense, masked or compacted) to a portable format: --format onnx writes <out>/onnx/model.onnx with tokenizer and config')
    .argument('<dir>', 'HF / sentence-transformers model folder (prunekit compacted folders included)')
    .requiredOption('--format <format>', `output format: ${FORMATS.join(', ')}`, oneOf('--format', FORMATS))
    .requiredOption('--out <dir>', 'output folder (must be new, empty, or an earlier prunekit export)')
    .option('--pooling <mode>', `sentence_embedding pooling: ${POOLING_MODES.join(', ')} (default: the folder's sentence-transformers pooling, else mean)`, oneOf('--pooling', POOLING_MODES))
    .option('--normalize', 'L2-normalise sentence_embedding (default: as the folder says)')
    .option('--external-data-threshold <bytes>', 'weights go to onnx/model.onnx_data when they exceed this many bytes (default 1.8 GiB, under protobuf\'s 2 GiB limit)', numberFlag('--external-data-threshold', (n) => Number.isInteger(n) && n >= 0, 'a non-negative integer number of bytes'))
    .option('--json', 'print the export report as JSON')
    .action(async (dir: string, opts: ExportOptions) => {
      const { io } = ctx;
      const src = checkModelDir(dir, 'DIR');
      let pooling: PoolingConfig | undefined;
      if (opts.pooling !== undefined || opts.normalize) {
        if (opts.pooling === undefined) throw new CliError('--normalize needs --pooling (or leave both to the folder\'s sentence-transformers config)');
        pooling = { mode: opts.pooling, normalize: opts.normalize ?? false };
      }
      await initBackend({ warn: (l) => { io.err(`${l}\n`); } });
      let report;
      try {
        report = await exportOnnx(src, opts.out, {
          ...(pooling ? { pooling } : {}),
          ...(opts.externalDataThreshold !== undefined ? { externalDataThreshold: opts.externalDataThreshold } : {}),
        });
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (opts.json) {
        printJson(io, report);
        return;
      }
      const mb = (report.bytes / 1e6).toFixed(1);
      io.out(`exported ${path.basename(src)} to ${report.outDir}\n`);
      io.out(`  ${report.modelFile}${report.externalDataFile ? ` + ${path.basename(report.externalDataFile)}` : ''}: ${mb} MB, ${report.parameters.toLocaleString('en-US')} parameters\n`);
      io.out(`  outputs: last_hidden_state, sentence_embedding (${report.pooling.mode}${report.pooling.normalize ? ', normalised' : ''})\n`);
      const layers = report.layers as { num_heads: number; intermediate_size: number }[];
      io.out(`  heads per layer: ${layers.map((l) => l.num_heads).join(' ')}; FFN per layer: ${layers.map((l) => l.intermediate_size).join(' ')}\n`);
    });
}
