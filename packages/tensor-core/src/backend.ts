// Backend initialisation: the native TensorFlow backend (tfjs-node) when it loads, otherwise the
// pure-JS CPU backend with a one-line warning. PRUNEKIT_BACKEND forces one; forcing a backend that
// cannot load is an error, never a silent fallback.
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

function loadNative(): string {
  // TensorFlow's C++ logging (CPU feature notices) is noise for users; they can still set it.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  // Loading tfjs-node registers the 'tensorflow' backend as a side effect.
  require('@tensorflow/tfjs-node');
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
