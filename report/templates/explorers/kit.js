// Shared by every kernel-free explorer: float16 weights, an MLP forward pass, painting, seeded noise.
window.ExplorerKit = window.ExplorerKit || (function () {
  function halves(b64) {  // base64 little-endian float16 -> Float32Array
    const bin = atob(b64), out = new Float32Array(bin.length / 2);
    for (let i = 0; i < out.length; i++) {
      const h = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
      const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, f = h & 1023;
      out[i] = e === 0 ? s * f * 5.960464477539063e-8 : e === 31 ? (f ? NaN : s * Infinity)
        : s * Math.pow(2, e - 15) * (1 + f / 1024);
    }
    return out;
  }
  function network(spec, last) {  // input -> hidden activations -> last(output) per unit
    const layers = spec.layers.map((l) => ({n: l.in, m: l.out, w: halves(l.w), b: halves(l.b)}));
    const slope = spec.slope;
    const act = {relu: (x) => (x > 0 ? x : 0), leaky_relu: (x) => (x > 0 ? x : slope * x), tanh: Math.tanh,
      elu: (x) => (x > 0 ? x : Math.exp(x) - 1), softplus: (x) => (x > 20 ? x : Math.log1p(Math.exp(x)))}[spec.activation];
    return function (input) {
      let h = Float32Array.from(input);
      layers.forEach((l, k) => {
        const out = new Float32Array(l.m), f = k < layers.length - 1 ? act : last;
        for (let j = 0; j < l.m; j++) {
          let s = l.b[j];
          const row = j * l.n;
          for (let i = 0; i < l.n; i++) s += l.w[row + i] * h[i];
          out[j] = f(s);
        }
        h = out;
      });
      return h;
    };
  }
  function paint(canvas, p, binary) {  // ink dark on white; optionally one binary draw
    const ctx = canvas.getContext("2d"), img = ctx.createImageData(28, 28);
    for (let i = 0; i < 784; i++) {
      const v = binary ? (Math.random() < p[i] ? 1 : 0) : p[i], g = Math.round(255 * (1 - v));
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
  function normal(seed) {  // a seeded standard-normal generator (mulberry32 + Box-Muller)
    let a = seed >>> 0;
    const uniform = () => {
      a = (a + 0x6D2B79F5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  }
  function along(base, directions, values) {  // base + sum_i values[i] * directions[i]
    const z = Float32Array.from(base);
    directions.forEach((d, i) => { for (let k = 0; k < z.length; k++) z[k] += values[i] * d[k]; });
    return z;
  }
  function mix(a, b, alpha) {  // (1 - alpha) * a + alpha * b
    return Float32Array.from(a, (v, k) => (1 - alpha) * v + alpha * b[k]);
  }
  function setup(uid) {  // the explorer's payload and an element lookup by name
    const $ = (name) => document.getElementById(uid + "-" + name);
    return {$, data: JSON.parse($("data").textContent)};
  }
  return {halves, network, paint, normal, along, mix, setup};
})();
