// The methods `prunekit prune` knows: the built-in packages' definitions plus the user's plugins
// (--plugin FILE, repeatable, and PRUNEKIT_PLUGINS), all in one MethodRegistry.
import { MethodRegistry } from '@prunekit/tensor-core';
import { scoringMethods } from '@prunekit/scoring-fisher';
import { smpMethods } from '@prunekit/mask-smp';
import { gatesMethods } from '@prunekit/gates-finegates';

export function builtinMethods(): MethodRegistry {
  return new MethodRegistry([...scoringMethods, ...smpMethods, ...gatesMethods]);
}

/**
 * The --plugin values in argv. Plugins must be loaded before the command tree is built (their
 * methods add flags and --help text), so they are read ahead of commander's parse.
 */
export function pluginArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--plugin' && i + 1 < argv.length) out.push(argv[++i]!);
    else if (a.startsWith('--plugin=')) out.push(a.slice('--plugin='.length));
  }
  return out;
}
