// From a method's zod option schema to command-line flags and back: the flag list with types,
// defaults and help text (via zod's JSON Schema), and parsing of raw flag strings into validated,
// typed options. Every error names the flag.
import { z } from 'zod';
import type { MethodDefinition } from './method.js';

export type OptionType = 'number' | 'integer' | 'string' | 'boolean' | 'list';

export interface OptionSpec {
  /** the option's key in the schema (camelCase) */
  key: string;
  /** the flag: --kebab-case */
  flag: string;
  type: OptionType;
  /** allowed values (enums) */
  choices?: string[];
  default?: unknown;
  description: string;
  required: boolean;
}

/** A bad option value; `flag` is the flag it came from. */
export class MethodOptionError extends Error {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`${flag} ${message}`);
    this.name = 'MethodOptionError';
  }
}

export function flagOf(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

interface JsonProp {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  items?: { type?: string };
  anyOf?: JsonProp[];
}

/** The flags of a method, in schema order. */
export function optionSpecs(schema: z.ZodObject): OptionSpec[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonProp>; required?: string[] };
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([key, p]) => {
    const prop = p.anyOf?.find((a) => a.type !== 'null') ?? p;
    const t = Array.isArray(prop.type) ? prop.type[0] : prop.type;
    const type: OptionType = prop.enum ? 'string' : t === 'number' || t === 'integer' || t === 'boolean' ? t : t === 'array' ? 'list' : 'string';
    const field = schema.shape[key] as z.ZodType | undefined;
    const description = p.description ?? prop.description ?? field?.description ?? '';
    return {
      key, flag: flagOf(key), type, description, required: required.has(key) && p.default === undefined,
      ...(prop.enum ? { choices: prop.enum.map(String) } : {}),
      ...(p.default !== undefined ? { default: p.default } : {}),
    };
  });
}

function convert(spec: OptionSpec, raw: string | boolean): unknown {
  if (spec.type === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new MethodOptionError(spec.flag, `expects true or false (got "${raw}")`);
  }
  if (typeof raw === 'boolean') throw new MethodOptionError(spec.flag, `needs a value`);
  if (raw.trim() === '') throw new MethodOptionError(spec.flag, 'needs a value (got an empty string)');
  if (spec.type === 'number' || spec.type === 'integer') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new MethodOptionError(spec.flag, `expects a number (got "${raw}")`);
    return n;
  }
  if (spec.type === 'list') return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return raw;
}

/**
 * Validated options of a method from raw flag values (strings as typed, `true` for a bare boolean
 * flag); absent keys take the schema's defaults. Throws MethodOptionError naming the flag.
 */
export function parseMethodOptions<S extends z.ZodObject>(def: MethodDefinition<S>, raw: Readonly<Record<string, string | boolean | undefined>>): z.output<S> {
  const specs = new Map(optionSpecs(def.options).map((s) => [s.key, s]));
  const values: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    const spec = specs.get(key);
    if (!spec) throw new MethodOptionError(flagOf(key), `is not an option of method ${def.name} (its options: ${[...specs.values()].map((s) => s.flag).join(', ') || 'none'})`);
    values[key] = convert(spec, v);
  }
  return validateMethodOptions(def, values);
}

/** Validated options from typed values (programmatic callers, e.g. the bench app). */
export function validateMethodOptions<S extends z.ZodObject>(def: MethodDefinition<S>, values: Readonly<Record<string, unknown>>): z.output<S> {
  const r = def.options.strict().safeParse(values);
  if (r.success) return r.data as z.output<S>;
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new MethodOptionError(flagOf(issue.keys[0]!), `is not an option of method ${def.name}`);
  }
  const key = String(issue.path[0] ?? '');
  const flag = key ? flagOf(key) : `--method ${def.name}`;
  const got = key in values ? ` (got ${JSON.stringify(values[key])})` : '';
  throw new MethodOptionError(flag, `${issue.message}${got}`);
}

function formatDefault(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : JSON.stringify(v);
}

/** Help text of one method: its description, needs and flags. */
export function methodHelp(def: MethodDefinition, indent = '  '): string {
  const needs = Object.entries(def.needs).filter(([, v]) => v).map(([k, v]) => (v === 'optional' ? `${k} (optional)` : k));
  const lines = [`${def.name} (${def.family}): ${def.description}`];
  if (needs.length) lines.push(`${indent}needs: ${needs.join(', ')}`);
  const specs = optionSpecs(def.options);
  const width = Math.max(0, ...specs.map((s) => s.flag.length + (s.type === 'boolean' ? 0 : s.type.length + 3)));
  for (const s of specs) {
    const left = s.type === 'boolean' ? s.flag : `${s.flag} <${s.choices ? s.choices.join('|') : s.type}>`;
    const dflt = s.default !== undefined ? ` (default ${formatDefault(s.default)})` : s.required ? ' (required)' : '';
    lines.push(`${indent}${left.padEnd(Math.min(width, 40))}  ${s.description}${dflt}`);
  }
  return lines.join('\n');
}
