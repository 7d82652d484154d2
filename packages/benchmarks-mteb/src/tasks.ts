// Tasks are data: JSON files validated here and collected in a registry with suites.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTextStrict } from './io.js';

export const TASK_TYPES = ['retrieval', 'reranking', 'sts', 'classification', 'pair-classification', 'clustering'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** Main metric key of each task type (MTEB's main_score). */
export const DEFAULT_MAIN_METRIC: Record<TaskType, string> = {
  retrieval: 'ndcg_at_10',
  reranking: 'map',
  sts: 'cosine_spearman',
  classification: 'accuracy',
  'pair-classification': 'max_ap',
  clustering: 'v_measure',
};

export interface TaskDefinition {
  /** Unique task name, also the results file name (e.g. "SciFact"). */
  name: string;
  type: TaskType;
  /** Free-form domain tag: general, finance, science, chemistry, ... */
  domain: string;
  description?: string;
  /** Data folder: relative to the datasets root, or absolute. */
  data: string;
  /** Evaluation splits (file `<split>.jsonl`, or `qrels/<split>.tsv` for retrieval). */
  splits: string[];
  /** Main score key (defaults to DEFAULT_MAIN_METRIC[type]). */
  metric: string;
  /** Type-specific options (see TaskOptions in the README). */
  options: Record<string, unknown>;
  /** Where the definition came from (file path or "builtin:<file>"), for error messages. */
  source?: string;
}

export interface SuiteDefinition {
  name: string;
  description?: string;
  tasks: string[];
  source?: string;
}

export class TaskDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskDefinitionError';
  }
}

type OptionSpec = Record<string, 'string' | 'number' | 'integer' | 'boolean' | 'number[]' | readonly string[]>;

const TEXT_FIELDS: OptionSpec = { textField: 'string', labelField: 'string' };
const OPTION_SPECS: Record<TaskType, OptionSpec> = {
  retrieval: { scoreFunction: ['cosine', 'dot'], kValues: 'number[]', ignoreIdenticalIds: 'boolean', queryBlockSize: 'integer', corpusBlockSize: 'integer' },
  reranking: {},
  sts: { sentence1Field: 'string', sentence2Field: 'string', scoreField: 'string' },
  classification: { ...TEXT_FIELDS, trainSplit: 'string', method: ['logReg', 'kNN'], nExperiments: 'integer', samplesPerLabel: 'integer', seed: 'integer', maxIter: 'integer', k: 'integer' },
  'pair-classification': { sentence1Field: 'string', sentence2Field: 'string', labelField: 'string' },
  clustering: { ...TEXT_FIELDS, nSubsets: 'integer', subsetSize: 'integer', batchSize: 'integer', seed: 'integer' },
};

function describe(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

function checkType(where: string, field: string, v: unknown, spec: OptionSpec[string]): void {
  const fail = (expected: string): never => {
    throw new TaskDefinitionError(`${where}: field "${field}": expected ${expected}, got ${describe(v)}`);
  };
  if (Array.isArray(spec)) {
    if (typeof v !== 'string' || !spec.includes(v)) fail(`one of ${spec.map((s) => `"${s}"`).join(', ')}`);
    return;
  }
  switch (spec) {
    case 'string':
      if (typeof v !== 'string' || v === '') fail('a non-empty string');
      return;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) fail('a number');
      return;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail('a non-negative integer');
      return;
    case 'boolean':
      if (typeof v !== 'boolean') fail('true or false');
      return;
    case 'number[]':
      if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0)) fail('a non-empty array of positive integers');
      return;
  }
}

/** Validates a parsed task definition; errors name the source, the field and what was expected. */
export function validateTask(raw: unknown, source = '<task>'): TaskDefinition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TaskDefinitionError(`${source}: expected a JSON object with fields name, type, domain, data, splits, got ${describe(raw)}`);
  const o = raw as Record<string, unknown>;
  const known = new Set(['$schema', 'name', 'type', 'domain', 'description', 'data', 'splits', 'metric', 'options']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new TaskDefinitionError(`${source}: unknown field "${k}" (expected one of ${[...known].filter((x) => x !== '$schema').join(', ')})`);
  checkType(source, 'name', o.name, 'string');
  checkType(source, 'type', o.type, TASK_TYPES);
  checkType(source, 'domain', o.domain, 'string');
  checkType(source, 'data', o.data, 'string');
  if (o.description !== undefined) checkType(source, 'description', o.description, 'string');
  if (!Array.isArray(o.splits) || o.splits.length === 0 || !o.splits.every((s) => typeof s === 'string' && s !== '')) {
    throw new TaskDefinitionError(`${source}: field "splits": expected a non-empty array of split names, got ${describe(o.splits)}`);
  }
  const type = o.type as TaskType;
  if (o.metric !== undefined) checkType(source, 'metric', o.metric, 'string');
  const options = o.options ?? {};
  if (typeof options !== 'object' || Array.isArray(options)) throw new TaskDefinitionError(`${source}: field "options": expected an object, got ${describe(options)}`);
  const spec = OPTION_SPECS[type];
  for (const [k, v] of Object.entries(options)) {
    const s = spec[k];
    if (s === undefined) {
      const allowed = Object.keys(spec);
      throw new TaskDefinitionError(`${source}: field "options.${k}" is not an option of ${type} tasks (expected ${allowed.length ? `one of ${allowed.join(', ')}` : 'no options'})`);
    }
    checkType(source, `options.${k}`, v, s);
  }
  return {
    name: o.name as string,
    type,
    domain: o.domain as string,
    ...(o.description !== undefined ? { description: o.description as string } : {}),
    data: o.data as string,
    splits: [...(o.splits as string[])],
    metric: (o.metric as string | undefined) ?? DEFAULT_MAIN_METRIC[type],
    options: { ...(options as Record<string, unknown>) },
    source,
  };
}

export function validateSuite(raw: unknown, source = '<suite>'): SuiteDefinition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TaskDefinitionError(`${source}: expected a JSON object with fields name, tasks, got ${describe(raw)}`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!['$schema', 'name', 'description', 'tasks'].includes(k)) throw new TaskDefinitionError(`${source}: unknown field "${k}" (expected name, description, tasks)`);
  checkType(source, 'name', o.name, 'string');
  if (o.description !== undefined) checkType(source, 'description', o.description, 'string');
  if (!Array.isArray(o.tasks) || o.tasks.length === 0 || !o.tasks.every((t) => typeof t === 'string' && t !== '')) throw new TaskDefinitionError(`${source}: field "tasks": expected a non-empty array of task names, got ${describe(o.tasks)}`);
  return { name: o.name as string, ...(o.description !== undefined ? { description: o.description as string } : {}), tasks: [...(o.tasks as string[])], source };
}

function readJsonFile(file: string): unknown {
  const text = readTextStrict(file, (m) => new TaskDefinitionError(m));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TaskDefinitionError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}

/** Reads one task file (a single task object, or an array of them). */
export function loadTaskFile(file: string): TaskDefinition[] {
  const raw = readJsonFile(file);
  return Array.isArray(raw) ? raw.map((t, i) => validateTask(t, `${file}[${i}]`)) : [validateTask(raw, file)];
}

export function loadSuiteFile(file: string): SuiteDefinition {
  return validateSuite(readJsonFile(file), file);
}

/** Folder of the built-in task and suite definitions (packages/benchmarks-mteb/tasks). */
export const builtinTasksDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'tasks');

export class TaskRegistry {
  private readonly tasks = new Map<string, TaskDefinition>();
  private readonly suites = new Map<string, SuiteDefinition>();

  /** A registry holding the built-in tasks (one per shared dataset) and suites. */
  static builtin(): TaskRegistry {
    const r = new TaskRegistry();
    r.addDirectory(builtinTasksDir);
    return r;
  }

  /** Adds a task; a second task of the same name is an error unless `replace`. */
  addTask(task: TaskDefinition, replace = false): void {
    const prev = this.tasks.get(task.name);
    if (prev && !replace) throw new TaskDefinitionError(`${task.source ?? '<task>'}: task "${task.name}" is already defined in ${prev.source ?? '<task>'}`);
    this.tasks.set(task.name, task);
  }

  addSuite(suite: SuiteDefinition, replace = false): void {
    const prev = this.suites.get(suite.name);
    if (prev && !replace) throw new TaskDefinitionError(`${suite.source ?? '<suite>'}: suite "${suite.name}" is already defined in ${prev.source ?? '<suite>'}`);
    this.suites.set(suite.name, suite);
  }

  /** Adds every *.json task file of a folder, and *.json suite files of its suites/ subfolder. */
  addDirectory(dir: string, replace = false): void {
    for (const name of fs.readdirSync(dir).sort()) {
      if (name.endsWith('.json')) for (const t of loadTaskFile(path.join(dir, name))) this.addTask(t, replace);
    }
    const suitesDir = path.join(dir, 'suites');
    if (fs.existsSync(suitesDir)) for (const name of fs.readdirSync(suitesDir).sort()) if (name.endsWith('.json')) this.addSuite(loadSuiteFile(path.join(suitesDir, name)), replace);
  }

  getTask(name: string): TaskDefinition {
    const t = this.tasks.get(name);
    if (!t) throw new TaskDefinitionError(`unknown task "${name}" (known: ${[...this.tasks.keys()].join(', ')})`);
    return t;
  }

  listTasks(filter: { type?: TaskType; domain?: string } = {}): TaskDefinition[] {
    return [...this.tasks.values()].filter((t) => (!filter.type || t.type === filter.type) && (!filter.domain || t.domain === filter.domain));
  }

  listSuites(): SuiteDefinition[] {
    return [...this.suites.values()];
  }

  /** The tasks of a suite, in the suite's order; every name must be a known task. */
  suiteTasks(name: string): TaskDefinition[] {
    const s = this.suites.get(name);
    if (!s) throw new TaskDefinitionError(`unknown suite "${name}" (known: ${[...this.suites.keys()].join(', ')})`);
    return s.tasks.map((t) => {
      if (!this.tasks.has(t)) throw new TaskDefinitionError(`${s.source ?? '<suite>'}: suite "${s.name}" names unknown task "${t}"`);
      return this.tasks.get(t)!;
    });
  }
}
