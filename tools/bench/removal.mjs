// Structured removal by magnitude group scores, shared by the speed benchmarks: whole heads with the
// smallest attention-output column norm, FFN neurons with the smallest |up row| * |down column|.

/** Heads and neurons to remove so that fraction f of each layer's attention + FFN parameters goes. */
export function magnitudeRemoval(tc, model, f) {
  const cfg = model.config;
  const H = cfg.hiddenSize;
  const heads = {};
  const neurons = {};
  for (let l = 0; l < cfg.numLayers; l++) {
    const s = cfg.layers[l];
    const n = tc.layerNames(model.prefix, l).linear;
    const D = s.headDim;
    const I = s.intermediateSize;
    const perHead = 4 * H * D + 3 * D; // Q, K, V rows (+biases) and attention-output columns
    const perNeuron = 2 * H + 1; // up row (+bias) and down column
    const total = s.numHeads * perHead + I * perNeuron;
    const h = Math.min(s.numHeads - 1, Math.round(f * s.numHeads));
    const k = Math.max(0, Math.min(I - 1, Math.round((f * total - h * perHead) / perNeuron)));
    const o = model.params.get(n.attn_output.weight).dataSync();
    const headNorm = Array.from({ length: s.numHeads }, (_, hd) => {
      let acc = 0;
      for (let r = 0; r < H; r++) for (let d = 0; d < D; d++) acc += o[r * s.numHeads * D + hd * D + d] ** 2;
      return [acc, hd];
    });
    heads[l] = headNorm.sort((a, b) => a[0] - b[0]).slice(0, h).map(([, hd]) => hd);
    const up = model.params.get(n.ffn_up.weight).dataSync();
    const down = model.params.get(n.ffn_down.weight).dataSync();
    const score = Array.from({ length: I }, (_, j) => {
      let a = 0;
      let b = 0;
      for (let c = 0; c < H; c++) a += up[j * H + c] ** 2;
      for (let r = 0; r < H; r++) b += down[r * I + j] ** 2;
      return [a * b, j];
    });
    neurons[l] = score.sort((x, y) => x[0] - y[0]).slice(0, k).map(([, j]) => j);
  }
  return { heads, neurons };
}
