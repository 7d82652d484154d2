// A third-party prunekit method, registered from user code: drops, in every layer, the FFN neurons
// whose up-projection row has the smallest L2 norm. The masks are structured (whole rows), so
// `prunekit compact` removes those neurons exactly.
//   prunekit prune --plugin ./drop-neurons-plugin.mjs --method drop-neurons --model DIR --out OUT --sparsity 0.25
// (or PRUNEKIT_PLUGINS=./drop-neurons-plugin.mjs); the method then also appears in `prunekit prune --help`.
import { loadModel, MaskSet, modelFingerprint, parseLinearName } from '@prunekit/tensor-core';

/** @param {import('@prunekit/tensor-core').PluginApi} api */
export default function register({ registry, z }) {
  registry.register({
    name: 'drop-neurons',
    description: 'example plugin: drop the FFN neurons with the smallest up-projection row norm in every layer',
    family: 'structured',
    options: z.object({
      sparsity: z.number().min(0, 'must be ≥ 0').lt(1, 'must be < 1').default(0.5).describe('fraction of the FFN neurons removed in each layer'),
    }),
    needs: {},
    async run(ctx) {
      const model = loadModel(ctx.model);
      const fingerprint = modelFingerprint(model);
      const masks = new MaskSet();
      for (const [name, t] of model.params) {
        const p = parseLinearName(name);
        if (!p || p.kind !== 'ffn_up' || p.param !== 'weight') continue;
        const [rows, cols] = t.shape;
        const w = t.dataSync();
        const norms = Array.from({ length: rows }, (_, r) => w.subarray(r * cols, (r + 1) * cols).reduce((a, x) => a + x * x, 0));
        const order = norms.map((n, r) => [n, r]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        const keep = new Uint8Array(rows * cols).fill(1);
        for (const [, r] of order.slice(0, Math.floor(ctx.options.sparsity * rows))) keep.fill(0, r * cols, (r + 1) * cols);
        masks.set(name, [rows, cols], keep);
        ctx.onProgress('masks', p.layer + 1, model.config.numLayers);
      }
      const view = masks.view(model);
      return {
        kind: 'pruned-model',
        model,
        masks,
        override: (name, t) => (masks.masks.has(name) ? view.view(name) : t),
        source: { fingerprint, parameters: model.numParameters() },
        data: {},
        summary: `Dropped ${(100 * ctx.options.sparsity).toFixed(0)}% of the FFN neurons in every layer (smallest up-projection row norm).`,
        dispose: () => {
          view.dispose();
          model.dispose();
        },
      };
    },
  });
}
