// `prunekit prune --method M` is the one documented entry point for every method; each method family
// has its own command with its own flags. This maps the method to that command before parsing.
const SMP_METHODS = new Set(['smp-l', 'smp-s', 'movement', 'magnitude-ft']);
const GATE_METHODS = new Set(['finegates', 'lora', 'bitfit']);

function methodOf(argv: readonly string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--method') return argv[i + 1];
    if (a.startsWith('--method=')) return a.slice('--method='.length);
  }
  return undefined;
}

/** argv with `prune` replaced by `prune-smp` / `prune-gates` when --method names such a method. */
export function routePrune(argv: readonly string[]): string[] {
  if (argv[0] !== 'prune') return [...argv];
  const method = methodOf(argv);
  if (method !== undefined && SMP_METHODS.has(method)) return ['prune-smp', ...argv.slice(1)];
  if (method !== undefined && GATE_METHODS.has(method)) return ['prune-gates', ...argv.slice(1)];
  return [...argv];
}
