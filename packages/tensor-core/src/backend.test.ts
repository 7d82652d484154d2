import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { transformWithEsbuild } from 'vite';
import * as tf from '@tensorflow/tfjs-core';

/** A fresh copy of the backend module: the backend is chosen once per module instance. */
async function freshBackendModule(): Promise<typeof import('./backend.js')> {
  vi.resetModules();
  return import('./backend.js');
}

describe('initBackend', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('uses the native TensorFlow backend when CI=true (CI must not pass on the slow backend)', async () => {
    const { initBackend } = await freshBackendModule();
    const info = await initBackend();
    if (process.env.CI === 'true') {
      expect(info.name, `fallback reason: ${info.fallbackReason}`).toBe('tensorflow');
    }
    expect(tf.getBackend()).toBe(info.name);
    if (info.name === 'tensorflow') {
      expect(info.tensorflowVersion).toMatch(/^\d+\.\d+\.\d+/);
      expect(info.fallbackReason).toBeNull();
    }
    // the backend computes: a tiny matmul gives the exact result
    const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
    expect(Array.from(await y.data())).toEqual([17, 39]);
  });

  it('PRUNEKIT_BACKEND=cpu forces the pure-JS backend and says why', async () => {
    vi.stubEnv('PRUNEKIT_BACKEND', 'cpu');
    const { initBackend, backendInfo } = await freshBackendModule();
    expect(backendInfo()).toBeNull();
    const info = await initBackend();
    expect(info.name).toBe('cpu');
    expect(info.tensorflowVersion).toBeNull();
    expect(info.fallbackReason).toContain('PRUNEKIT_BACKEND=cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(backendInfo()).toBe(info);
    // gradients work on the fallback too: d/dx sum(x^2) = 2x
    const x = tf.variable(tf.tensor1d([1, -2, 3]));
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(x)), [x]);
    expect(Array.from(await grads[x.name]!.data())).toEqual([2, -4, 6]);
    tf.dispose([x, ...Object.values(grads)]);
  });

  it('rejects an unknown PRUNEKIT_BACKEND value with a clear error', async () => {
    vi.stubEnv('PRUNEKIT_BACKEND', 'gpu-please');
    const { initBackend } = await freshBackendModule();
    await expect(initBackend()).rejects.toThrow('PRUNEKIT_BACKEND must be one of tensorflow, cpu (got "gpu-please")');
  });

  it('loads the native backend without TensorFlow\'s C++ log lines on stderr; PRUNEKIT_TF_LOG=1 shows them', async () => {
    // a child process: the native library prints at load time, once per process
    const here = path.dirname(fileURLToPath(import.meta.url));
    const { code } = await transformWithEsbuild(fs.readFileSync(path.join(here, 'backend.ts'), 'utf8'), 'backend.ts', { format: 'esm' });
    // inside the workspace's node_modules so that the child resolves @tensorflow/* as the package does
    const cache = path.resolve(here, '..', '..', '..', 'node_modules', '.cache');
    fs.mkdirSync(cache, { recursive: true });
    const dir = fs.mkdtempSync(path.join(cache, 'backend-test-'));
    try {
      fs.writeFileSync(path.join(dir, 'backend.mjs'), code);
      fs.writeFileSync(path.join(dir, 'main.mjs'), [
        "process.stderr.write('before load\\n');",
        "const { initBackend } = await import('./backend.mjs');",
        'const info = await initBackend();',
        "process.stderr.write('after load\\n');",
        'process.stdout.write(JSON.stringify(info));',
      ].join('\n'));
      const runChild = (extra: Record<string, string>): { info: { name: string; tensorflowVersion: string | null }; stderr: string } => {
        const env: Record<string, string | undefined> = { ...process.env, ...extra };
        delete env.TF_CPP_MIN_LOG_LEVEL;
        if (!('PRUNEKIT_TF_LOG' in extra)) delete env.PRUNEKIT_TF_LOG;
        const errFile = path.join(dir, 'stderr.txt');
        const fd = fs.openSync(errFile, 'w');
        try {
          const out = execFileSync(process.execPath, [path.join(dir, 'main.mjs')], { env, stdio: ['ignore', 'pipe', fd], encoding: 'utf8' });
          return { info: JSON.parse(out) as { name: string; tensorflowVersion: string | null }, stderr: fs.readFileSync(errFile, 'utf8') };
        } finally {
          fs.closeSync(fd);
        }
      };
      const quiet = runChild({});
      // stderr is silenced only while the library loads: lines before and after it still arrive
      expect(quiet.stderr).toBe('before load\nafter load\n');
      if (quiet.info.name === 'tensorflow' && quiet.info.tensorflowVersion?.startsWith('2.21')) {
        // the TensorFlow 2.21 library from the wheel (what provisioning builds offline) prints these at load
        const verbose = runChild({ PRUNEKIT_TF_LOG: '1' });
        expect(verbose.stderr).toContain('absl::InitializeLog');
        expect(verbose.stderr).toContain('oneDNN custom operations are on');
        expect(verbose.stderr).toContain('after load');
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
