// The method contract: every pruning / adaptation method (built in or a user's plugin) is a name, a
// description, a family, a zod option schema (validation, TypeScript types and --help text from one
// place), what data it needs, and run(ctx) → an in-memory artifact. Methods never write files: the
// pipeline writes the artifact (artifact/write.ts) in the one prunekit layout.
import { z } from 'zod';
import type { EncoderModel } from '../model/model.js';
import type { MaskSet } from '../prune/maskset.js';
import type { HostTensor } from '../io/safetensors.js';
import { parsePolicy } from '../prune/policy.js';
import type * as tf from '@tensorflow/tfjs-core';

/** Built-in families; plugins may name their own. */
export type MethodFamily = 'scoring' | 'mask-learning' | 'gating' | 'fine-tuning' | (string & {});

/** What a method needs from the caller besides the model folder. */
export interface MethodNeeds {
  /** domain triplets (--domain FILE) */
  domainTriplets?: boolean;
  /** general-domain triplets (--general FILE) */
  generalTriplets?: boolean;
  /** a labelled classification task (--data-root DIR --task NAME) */
  labelledTask?: boolean;
  /** a masked-LM head in the model folder (BertForMaskedLM / RobertaForMaskedLM) */
  mlmHead?: boolean;
  /** a dense teacher model folder (--teacher DIR) */
  teacher?: 'optional' | 'required';
}

/** The data the caller supplies (paths as given on the command line; the method reads them). */
export interface MethodData {
  domain?: string;
  general?: string;
  /** precomputed gradient statistics files (scoring methods), used instead of computing them */
  domainStats?: string;
  generalStats?: string;
  dataRoot?: string;
  task?: string;
  teacher?: string;
}

export interface MethodContext<O> {
  /** the source model folder (never written to) */
  model: string;
  options: O;
  data: MethodData;
  /** resumable state (checkpoints, statistics); the caller decides whether to keep it */
  workDir: string;
  onProgress: (stage: string, done: number, total: number, detail?: string) => void;
  log: (line: string) => void;
}

/** The kinds of artifact prunekit writes (the onnx exporter writes 'onnx-export'). */
export type ArtifactKind = 'pruned-model' | 'compacted-model' | 'fine-tuned-model' | 'onnx-export' | (string & {});

/**
 * What a method returns: the model to write and what it learned, all in memory. The artifact owns
 * `model` (and everything else here); the writer calls dispose() when done.
 */
export interface MethodArtifact {
  kind: ArtifactKind;
  /** the weights to write (the source architecture, or a compacted one) */
  model: EncoderModel;
  /** per-parameter replacement at write time (e.g. W ⊙ M, merged LoRA); the writer disposes what it returns */
  override?: (name: string, tensor: tf.Tensor) => tf.Tensor;
  /** keep-masks over the written model's weights → prunekit/masks.safetensors */
  masks?: MaskSet;
  /** learned gates → prunekit/gates.safetensors (metadata values are strings) */
  gates?: { tensors: Map<string, HostTensor>; metadata?: Record<string, string> };
  /** a task head outside the encoder → prunekit/head.safetensors */
  head?: { tensors: Map<string, HostTensor>; metadata?: Record<string, string> };
  /** fingerprint and parameter count of the source model */
  source: { fingerprint: string; parameters: number };
  /** fingerprints of the data the method used, by role (domain, general, train, ...) */
  data: Record<string, { fingerprint: string; path?: string }>;
  /** achieved sparsity when the method does not express it as masks (e.g. gates: removed fraction) */
  sparsity?: { definition: string; total: number; perMatrix: { name: string; numel: number; kept: number; sparsity: number }[] };
  /** results worth keeping (evaluation scores, losses, timings) → manifest.metrics */
  metrics?: Record<string, unknown>;
  /** further JSON reports → prunekit/<name>.json */
  reports?: Record<string, unknown>;
  /** one line for people: what happened */
  summary: string;
  dispose(): void;
}

export interface MethodDefinition<S extends z.ZodObject = z.ZodObject> {
  /** the --method value: lower case letters, digits and dashes */
  name: string;
  description: string;
  family: MethodFamily;
  /** every option the method takes; `.describe()` on each field is its --help text */
  options: S;
  needs: MethodNeeds;
  /**
   * Cheap checks before any heavy work (data layout, option combinations): throws on bad input,
   * returns warnings worth printing.
   */
  preflight?(ctx: Omit<MethodContext<z.output<S>>, 'onProgress' | 'log' | 'workDir'>): string[];
  run(ctx: MethodContext<z.output<S>>): Promise<MethodArtifact>;
}

/** Identity with the option types inferred (write `defineMethod({...})` and get typed ctx.options). */
export function defineMethod<S extends z.ZodObject>(def: MethodDefinition<S>): MethodDefinition<S> {
  return def;
}

// Options shared by name across methods, so that one flag means one thing everywhere.

/** --sparsity: the fraction of the prunable weights (or gated rows/columns) removed. */
export function sparsityOption(defaultValue: number, definition = 'fraction of the prunable weights removed'): z.ZodDefault<z.ZodNumber> {
  return z.number().min(0, 'must be ≥ 0').lt(1, 'must be < 1').default(defaultValue).describe(definition);
}

/** --seed: a non-negative integer. */
export function seedOption(what = 'seed'): z.ZodDefault<z.ZodNumber> {
  return z.number().int('must be an integer').min(0, 'must be ≥ 0').default(0).describe(what);
}

/** --targets: which linears a method acts on; an unknown entry is named in the error. */
export function targetsOption(defaultValue: string, what = 'matrices: attention+mlp, mlp, attention, or a list of query,key,value,attn_output,ffn_up,ffn_down'): z.ZodDefault<z.ZodString> {
  return z
    .string()
    .superRefine((v, ctx) => {
      try {
        parsePolicy(v);
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
      }
    })
    .default(defaultValue)
    .describe(what) as unknown as z.ZodDefault<z.ZodString>;
}

/** A positive integer option. */
export function positiveIntOption(what: string, defaultValue?: number): z.ZodType<number> {
  const base = z.number().int('must be an integer').min(1, 'must be ≥ 1');
  return (defaultValue === undefined ? base.optional() : base.default(defaultValue)).describe(what) as z.ZodType<number>;
}
