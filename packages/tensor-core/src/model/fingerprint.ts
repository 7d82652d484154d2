import { createHash } from 'node:crypto';
import type { EncoderModel } from './model.js';

/** sha256 over the config's sizes and every parameter (name, shape, float32 bytes): identifies a model's weights. */
export function modelFingerprint(model: EncoderModel): string {
  const h = createHash('sha256');
  const c = model.config;
  h.update(JSON.stringify([c.modelType, c.head, c.hiddenSize, c.numLayers, c.layers]));
  for (const name of [...model.params.keys()].sort()) {
    const t = model.params.get(name)!;
    h.update(`${name}:${t.shape.join('x')}:`);
    const data = t.dataSync() as Float32Array;
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  return h.digest('hex').slice(0, 16);
}
