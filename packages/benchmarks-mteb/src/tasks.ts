// Tasks are data: JSON files validated here and collected in a registry with suites.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEFAULT_K_VALUES } from './metrics/retrieval.js';

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

const nonEmptyString = z.string({ error: 'a non-empty string' }).min(1, { error: 'a non-empty string' });
const nonNegativeInt = z.int({ error: 'a non-negative integer' }).min(0, { error: 'a non-negative integer' });
const positiveInt = z.int({ error: 'a positive integer' }).min(1, { error: 'a positive integer' });
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `one of ${values.map((v) => `"${v}"`).join(', ')}` });
const textFields = { textField: nonEmptyString.default('text'), labelField: nonEmptyString.default('label') };
const pairFields = { sentence1Field: nonEmptyString.default('sentence1'), sentence2Field: nonEmptyString.default('sentence2') };

/**
 * The options of each task type, with their defaults: the one place that gives validation, the
 * TypeScript types evaluation reads, and the defaults the README lists.
 */
export const TASK_OPTION_SCHEMAS = {
  retrieval: z.strictObject({
    scoreFunction: oneOf(['cosine', 'dot']).default('cosine'),
    kValues: z.array(positiveInt, { error: 'a non-empty array of positive integers' }).min(1, { error: 'a non-empty array of positive integers' }).default(() => [...DEFAULT_K_VALUES]),
    ignoreIdenticalIds: z.boolean({ error: 'true or false' }).default(true),
    /** Absent: exhaustiveSearch's own block sizes. */
    queryBlockSize: positiveInt.optional(),
    corpusBlockSize: positiveInt.optional(),
  }),
  reranking: z.strictObject({}),
  sts: z.strictObject({ ...pairFields, scoreField: nonEmptyString.default('score') }),
  classification: z.strictObject({
    ...textFields,
    trainSplit: nonEmptyString.default('train'),
    method: oneOf(['logReg', 'kNN']).default('logReg'),
    nExperiments: nonNegativeInt.default(10),
    samplesPerLabel: nonNegativeInt.default(8),
    seed: nonNegativeInt.default(42),
    maxIter: nonNegativeInt.default(100),
    k: nonNegativeInt.default(3),
  }),
  'pair-classification': z.strictObject({ ...pairFields, labelField: nonEmptyString.default('label') }),
  clustering: z.strictObject({ ...textFields, nSubsets: nonNegativeInt.default(10), subsetSize: nonNegativeInt.default(16384), batchSize: nonNegativeInt.default(512), seed: nonNegativeInt.default(42) }),
} as const satisfies Record<TaskType, z.ZodObject>;

export type TaskOptions<T extends TaskType> = z.output<(typeof TASK_OPTION_SCHEMAS)[T]>;

const taskFields = {
  $schema: z.string().optional(),
  /** Unique task name, also the results file name (e.g. "SciFact"). */
  name: nonEmptyString,
  /** Free-form domain tag: general, finance, science, chemistry, ... */
  domain: nonEmptyString,
  description: nonEmptyString.optional(),
  /** Data folder: relative to the datasets root, or absolute. */
  data: nonEmptyString,
  /** Evaluation splits (file `<split>.jsonl`, or `qrels/<split>.tsv` for retrieval). */
  splits: z.array(nonEmptyString, { error: 'a non-empty array of split names' }).min(1, { error: 'a non-empty array of split names' }),
  /** Main score key (defaults to DEFAULT_MAIN_METRIC[type]). */
  metric: nonEmptyString.optional(),
};

// absent options parse as {} so that every default is filled in
const taskVariant = <T extends TaskType, S extends z.ZodObject>(type: T, options: S) => z.strictObject({ ...taskFields, type: z.literal(type), options: options.prefault({} as z.input<S>) });

/** A task file's object: one variant per task type, told apart by `type`. */
export const taskFileSchema = z.discriminatedUnion('type', [
  taskVariant('retrieval', TASK_OPTION_SCHEMAS['retrieval']),
  taskVariant('reranking', TASK_OPTION_SCHEMAS['reranking']),
  taskVariant('sts', TASK_OPTION_SCHEMAS['sts']),
  taskVariant('classification', TASK_OPTION_SCHEMAS['classification']),
  taskVariant('pair-classification', TASK_OPTION_SCHEMAS['pair-classification']),
  taskVariant('clustering', TASK_OPTION_SCHEMAS['clustering']),
]);

type Distribute<T> = T extends unknown ? Omit<T, '$schema' | 'metric'> & { metric: string; source?: string } : never;
/**
 * A validated task: `type` decides the `options` type (with every default filled in), so code that
 * switches on `type` reads options without casts. `source` is where the definition came from
 * (file path or "builtin:<file>"), for error messages.
 */
export type TaskDefinition = Distribute<z.output<typeof taskFileSchema>>;
/** The validated tasks of some types, e.g. `TaskOf<'classification' | 'clustering'>`. */
export type TaskOf<T extends TaskType> = Extract<TaskDefinition, { type: T }>;

export interface SuiteDefinition {
  name: string;
  description?: string;
  tasks: string[];
  source?: string;
}

const suiteFileSchema = z.strictObject({
  $schema: z.string().optional(),
  name: nonEmptyString,
  description: nonEmptyString.optional(),
  tasks: z.array(nonEmptyString, { error: 'a non-empty array of task names' }).min(1, { error: 'a non-empty array of task names' }),
});

export class TaskDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskDefinitionError';
  }
}

function describe(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}

function valueAt(raw: unknown, at: readonly PropertyKey[]): unknown {
  let v = raw;
  for (const k of at) v = typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** The first schema problem as one sentence naming the source, the field and what was expected. */
function schemaError(source: string, raw: unknown, error: z.ZodError, what: string): TaskDefinitionError {
  const issue = error.issues[0]!;
  const at = issue.path.map(String);
  const field = at.join('.');
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    if (at.length === 1 && at[0] === 'options') {
      const type = (raw as { type: TaskType }).type;
      const allowed = Object.keys(TASK_OPTION_SCHEMAS[type].shape);
      return new TaskDefinitionError(`${source}: field "options.${key}" is not an option of ${type} tasks (expected ${allowed.length ? `one of ${allowed.join(', ')}` : 'no options'})`);
    }
    const known = what === 'task' ? ['name', 'type', 'domain', 'description', 'data', 'splits', 'metric', 'options'] : Object.keys(suiteFileSchema.shape).filter((k) => k !== '$schema');
    return new TaskDefinitionError(`${source}: unknown field "${[...at, key].join('.')}" (expected one of ${known.join(', ')})`);
  }
  if (issue.code === 'invalid_union' && field === 'type') return new TaskDefinitionError(`${source}: field "type": expected one of ${TASK_TYPES.map((t) => `"${t}"`).join(', ')}, got ${describe(valueAt(raw, at))}`);
  if (field === '') return new TaskDefinitionError(`${source}: expected a JSON object with fields ${what === 'task' ? 'name, type, domain, data, splits' : 'name, tasks'}, got ${describe(raw)}`);
  const name = at.map((k, i) => (/^\d+$/.test(k) ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
  const expected = issue.code === 'invalid_type' && issue.expected === 'object' ? 'an object' : issue.message;
  return new TaskDefinitionError(`${source}: field "${name}": expected ${expected}, got ${describe(valueAt(raw, at))}`);
}

/**
 * Validates a parsed task definition, filling in the default options and metric; errors name the
 * source, the field and what was expected. A literal `type` in the input narrows the result's type.
 */
export function validateTask<const R>(raw: R, source = '<task>'): R extends { type: infer T extends TaskType } ? TaskOf<T> : TaskDefinition {
  const parsed = taskFileSchema.safeParse(raw);
  if (!parsed.success) throw schemaError(source, raw, parsed.error, 'task');
  const { $schema: _schema, metric, ...task } = parsed.data;
  return { ...task, metric: metric ?? DEFAULT_MAIN_METRIC[task.type], source } as never;
}

export function validateSuite(raw: unknown, source = '<suite>'): SuiteDefinition {
  const parsed = suiteFileSchema.safeParse(raw);
  if (!parsed.success) throw schemaError(source, raw, parsed.error, 'suite');
  const { $schema: _schema, ...suite } = parsed.data;
  return { ...suite, source };
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TaskDefinitionError(`${file}: cannot read (${(e as Error).message})`);
  }
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
