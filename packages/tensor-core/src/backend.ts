// Backend initialisation: the native TensorFlow backend (tfjs-node) when it loads, otherwise the
// pure-JS CPU backend with a one-line warning. PRUNEKIT_BACKEND forces one; forcing a backend that
// cannot load is an error, never a silent fallback.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

export type BackendName = 'tensorflow' | 'cpu';

export interface BackendInfo {
  /** the tfjs backend in use */
  name: BackendName;
  /** version of the TensorFlow C library behind the native backend */
  tensorflowVersion: string | null;
  /** version of @tensorflow/tfjs-core */
  tfjsVersion: string;
  /** why the native backend is not in use, when it is not */
  fallbackReason: string | null;
}

const BACKENDS: readonly BackendName[] = ['tensorflow', 'cpu'];
const require = createRequire(import.meta.url);
let current: BackendInfo | null = null;

export interface InitBackendOptions {
  /** overrides PRUNEKIT_BACKEND */
  backend?: BackendName;
  /** where the fallback warning goes (default: console.warn) */
  warn?: (line: string) => void;
}

/** PRUNEKIT_TF_LOG=1 (or the CLI's --verbose) shows TensorFlow's native log lines. */
export function tensorflowLogsWanted(): boolean {
  const v = process.env.PRUNEKIT_TF_LOG?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

/**
 * Runs `load` with the process's stderr (fd 2) pointed at /dev/null, then restores it.
 * Loading the TensorFlow 2.21 library prints, from C++ static initialisers, absl's "All log messages
 * before absl::InitializeLog()" warning and oneDNN's info line; measured: TF_CPP_MIN_LOG_LEVEL (even 3)
 * silences only the later CPU-instructions lines, not these two, and no other variable does. Node cannot dup2, but on Linux it can
 * re-open the stream behind fd 2 through /proc/self/fd and close/re-open fd 2 (the lowest free fd).
 * Where any step is not possible (another OS, a socket as stderr) it just runs `load`.
 */
function withStderrSilenced<T>(load: () => T): T {
  if (process.platform !== 'linux') return load();
  let saved: number;
  try {
    saved = fs.openSync('/proc/self/fd/2', 'a');
  } catch {
    return load();
  }
  const restore = (): void => {
    fs.openSync(`/proc/self/fd/${saved}`, 'a'); // the lowest free fd: 2 again, the original stderr
    fs.closeSync(saved);
  };
  fs.closeSync(2);
  let silenced = false;
  try {
    const nullFd = fs.openSync('/dev/null', 'a');
    silenced = nullFd === 2;
    if (!silenced) fs.closeSync(nullFd);
  } catch {
    // no /dev/null: load with stderr as it was
  }
  if (!silenced) {
    restore();
    return load();
  }
  try {
    return load();
  } finally {
    fs.closeSync(2);
    restore();
  }
}

function loadNative(): string {
  // TensorFlow's C++ log lines (CPU feature notices, oneDNN, absl) are noise for users; they come
  // back with PRUNEKIT_TF_LOG=1, and a TF_CPP_MIN_LOG_LEVEL the user set is kept.
  const quiet = !tensorflowLogsWanted();
  if (quiet) process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // Loading tfjs-node registers the 'tensorflow' backend as a side effect.
  if (quiet) {
    withStderrSilenced(() => {
      require('@tensorflow/tfjs-node');
    });
  } else {
    require('@tensorflow/tfjs-node');
  }
  const backend = tf.findBackend('tensorflow') as unknown as { binding?: { TF_Version?: string } } | null;
  if (!backend) throw new Error('@tensorflow/tfjs-node loaded but registered no "tensorflow" backend');
  return backend.binding?.TF_Version ?? 'unknown';
}

function loadCpu(): void {
  // The union package registers the cpu backend and, unlike tfjs-core's CommonJS build, every
  // gradient function (tfjs-node loads it too); without it tf.variableGrads fails on this path.
  require('@tensorflow/tfjs');
}

function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 300);
}

/**
 * Selects and initialises the compute backend once per process; later calls return the same info.
 * Order: options.backend, then PRUNEKIT_BACKEND, then native with fallback to cpu.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  if (current) return current;
  const requested = options.backend ?? process.env.PRUNEKIT_BACKEND?.trim();
  if (requested !== undefined && requested !== '' && !BACKENDS.includes(requested as BackendName)) {
    throw new Error(`PRUNEKIT_BACKEND must be one of ${BACKENDS.join(', ')} (got "${requested}")`);
  }
  const warn = options.warn ?? ((line: string) => {
    console.warn(line);
  });
  let info: BackendInfo;
  if (requested === 'cpu') {
    loadCpu();
    info = { name: 'cpu', tensorflowVersion: null, tfjsVersion: tf.version_core, fallbackReason: 'forced by PRUNEKIT_BACKEND=cpu' };
  } else {
    try {
      const tfVersion = loadNative();
      info = { name: 'tensorflow', tensorflowVersion: tfVersion, tfjsVersion: tf.version_core, fallbackReason: null };
    } catch (err) {
      if (requested === 'tensorflow') {
        throw new Error(
          `PRUNEKIT_BACKEND=tensorflow but the native backend cannot load: ${describe(err)}. ` +
            'Run `npm run setup` in the workspace root to provision it.',
        );
      }
      loadCpu();
      const reason = describe(err);
      warn(`prunekit: native TensorFlow backend unavailable (${reason}); using the pure-JS cpu backend, which is much slower. Run \`npm run setup\` to fix.`);
      info = { name: 'cpu', tensorflowVersion: null, tfjsVersion: tf.version_core, fallbackReason: reason };
    }
  }
  const ok = await tf.setBackend(info.name);
  if (!ok) throw new Error(`tfjs could not initialise the "${info.name}" backend`);
  await tf.ready();
  current = info;
  return info;
}

/** The backend chosen by initBackend, or null before it ran. */
export function backendInfo(): BackendInfo | null {
  return current;
}
