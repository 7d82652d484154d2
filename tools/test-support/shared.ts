// Locating ../shared (models and datasets that live beside the repository) from tests.
// When it is absent a test skips with a reason; under CI=true its absence is a failure, because CI
// always has it and a silently skipped parity test would prove nothing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const workspaceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shared folder: $PRUNEKIT_SHARED_DIR, else ../shared beside the workspace. */
export const sharedDir = process.env.PRUNEKIT_SHARED_DIR ?? path.resolve(workspaceRoot, '..', 'shared');

/**
 * Resolves a path under ../shared. Returns null when it does not exist (call sites then skip with
 * `it.skipIf(!p)` and the reason printed here); throws when CI=true.
 */
export function sharedPath(relative: string): string | null {
  const p = path.join(sharedDir, relative);
  if (fs.existsSync(p)) return p;
  const reason = `${p} is absent (../shared beside the repository holds the models and datasets)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  warnSkip(reason);
  return null;
}

/**
 * Prints why a test skips, unless the workspace test runner (`npm test`, tools/setup/run.mjs) said
 * it prints one summary line per missing prerequisite instead (PRUNEKIT_QUIET_SKIPS=1).
 */
export function warnSkip(reason: string): void {
  if (process.env.PRUNEKIT_QUIET_SKIPS === '1') return;
  console.warn(`skipping: ${reason}`);
}

/** Path to the Python reference interpreter (tools/.venv), or null when it is not set up. */
export function referencePython(): string | null {
  const py = path.join(workspaceRoot, 'tools', '.venv', 'bin', 'python');
  if (fs.existsSync(py)) return py;
  const reason = `${py} is absent (run \`bash tools/python/setup-venv.sh\`)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  warnSkip(reason);
  return null;
}
