import { afterEach, describe, expect, it, vi } from 'vitest';
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
});
