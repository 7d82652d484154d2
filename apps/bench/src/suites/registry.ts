// The suite registry: kinds register here, suites are looked up by name (or kind:name when two
// kinds offer the same name).
import { CliError } from '@prunekit/cli-support';
import type { BenchSuite, SuiteKind } from './types.js';

export class SuiteRegistry {
  private readonly kindsByName = new Map<string, SuiteKind>();

  register(kind: SuiteKind): this {
    if (this.kindsByName.has(kind.name)) throw new Error(`suite kind "${kind.name}" is registered twice`);
    this.kindsByName.set(kind.name, kind);
    return this;
  }

  kinds(): SuiteKind[] {
    return [...this.kindsByName.values()];
  }

  list(options: { tasksDirs?: readonly string[] } = {}): BenchSuite[] {
    return this.kinds().flatMap((k) => k.suites({ tasksDirs: options.tasksDirs ?? [] }));
  }

  /** A suite by name, or by kind:name. */
  get(name: string, options: { tasksDirs?: readonly string[] } = {}): BenchSuite {
    const all = this.list(options);
    const [kind, bare] = name.includes(':') ? (name.split(':', 2) as [string, string]) : [undefined, name];
    const found = all.filter((s) => s.name === bare && (kind === undefined || s.kind === kind));
    if (found.length === 1) return found[0]!;
    if (found.length > 1) throw new CliError(`suite "${name}" is offered by several kinds (${found.map((s) => `${s.kind}:${s.name}`).join(', ')}); name one of them`);
    throw new CliError(`unknown suite "${name}" (known: ${all.map((s) => s.name).join(', ')}; \`prunekit-bench suites\` lists them)`);
  }
}
