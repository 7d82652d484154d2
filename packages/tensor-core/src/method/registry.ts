// One registry of methods: the CLI's `prune --method`, its --help and the bench app all resolve
// methods here. Built-in method packages export their definitions; user code adds more with
// register() or as a plugin module (loadPlugins).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { MethodDefinition } from './method.js';

const NAME = /^[a-z][a-z0-9]*(?:[-+][a-z0-9]+)*$/;

export class MethodRegistry {
  private readonly defs = new Map<string, MethodDefinition>();

  constructor(definitions: readonly MethodDefinition[] = []) {
    for (const d of definitions) this.register(d);
  }

  /** Adds a method; a second method of the same name is an error naming both. */
  register(def: MethodDefinition): this {
    if (!NAME.test(def.name)) throw new Error(`method name "${def.name}" must be lower case letters and digits joined by - (e.g. "my-method")`);
    if (!(def.options instanceof z.ZodObject)) throw new Error(`method "${def.name}": options must be a zod object schema (z.object({...}))`);
    if (typeof def.run !== 'function') throw new Error(`method "${def.name}": run must be a function`);
    const prev = this.defs.get(def.name);
    if (prev) throw new Error(`method "${def.name}" is registered twice (${prev.family}: "${prev.description}" and ${def.family}: "${def.description}")`);
    this.defs.set(def.name, def as unknown as MethodDefinition);
    return this;
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  /** The method of that name, or an error listing the known ones. */
  get(name: string): MethodDefinition {
    const d = this.defs.get(name);
    if (!d) throw new Error(`unknown method "${name}" (known: ${this.names().join(', ')})`);
    return d;
  }

  names(): string[] {
    return [...this.defs.keys()];
  }

  list(): MethodDefinition[] {
    return [...this.defs.values()];
  }
}

/** What a plugin module's default export receives. */
export interface PluginApi {
  registry: MethodRegistry;
  /** the zod instance prunekit uses (so a plugin needs no zod of its own) */
  z: typeof z;
}

/**
 * Loads plugin modules (file paths, relative to `cwd`, or package names). A plugin's default export
 * is `(api: PluginApi) => void | Promise<void>` that registers its methods, or an array of method
 * definitions.
 */
export async function loadPlugins(specs: readonly string[], registry: MethodRegistry, cwd = process.cwd()): Promise<void> {
  for (const spec of specs) {
    const isPath = spec.startsWith('.') || path.isAbsolute(spec) || /\.[cm]?js$/.test(spec);
    const url = isPath ? pathToFileURL(path.resolve(cwd, spec)).href : spec;
    let mod: { default?: unknown; methods?: unknown };
    try {
      mod = (await import(url)) as { default?: unknown; methods?: unknown };
    } catch (e) {
      throw new Error(`plugin ${spec}: cannot load (${(e as Error).message.split('\n')[0]})`);
    }
    const entry = mod.default ?? mod.methods;
    if (typeof entry === 'function') await (entry as (api: PluginApi) => unknown)({ registry, z });
    else if (Array.isArray(entry)) for (const d of entry as MethodDefinition[]) registry.register(d);
    else throw new Error(`plugin ${spec}: its default export must be a function (api) => void that calls api.registry.register(...), or an array of method definitions`);
  }
}

/** Plugin specs from PRUNEKIT_PLUGINS (separated by the platform's path delimiter or commas). */
export function pluginsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.PRUNEKIT_PLUGINS ?? '').split(new RegExp(`[${path.delimiter},]`)).map((s) => s.trim()).filter((s) => s !== '');
}
