"""The kernel-free explorer of the latent-2 VAE for the static report: one self-contained HTML fragment.

Widgets whose callbacks run in Python die with the kernel, so the report carries the decoder itself:
its weights as base64 float16 and a few lines of JavaScript that do the three matrix products and draw
the 28 x 28 pixel probabilities to a <canvas>. Two sliders pick (z1, z2), a marker follows on the
validation set's latent map, and an α slider mixes the typical points of two chosen digits. No network,
no external files; the element ids carry a prefix derived from the weights, so two explorers can share a page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from .data import Split, load_splits
from .vae import VAE, latent_means, load_vae

LIMIT = 3.0  # the sliders cover [-LIMIT, LIMIT]^2
SCALE = 6  # screen pixels per image pixel


def explorer_html(vae_run_dir: str | os.PathLike, validation: Split | None = None) -> str:
    """A self-contained HTML fragment (inline data and script) exploring a latent-2 VAE run without a kernel."""
    run_dir = Path(vae_run_dir)
    model = load_vae(run_dir)
    if model.latent_dim != 2:
        raise ValueError(f"the static explorer needs a latent-2 VAE; {run_dir} has latent_dim {model.latent_dim}")
    parameters = json.loads((run_dir / "metrics.json").read_text())["parameters"]
    if validation is None:
        validation = load_splits(parameters.get("dataset", "mnist"), parameters.get("data_dir") or None).validation
    means = latent_means(model, validation.images.cpu())
    square = parameters.get("grid_limit", 2.0)  # the map marks the square the report's decoded grid covers
    payload = decoder_payload(model) | latent_map_payload(means, validation.labels.cpu(), square) | {
        "anchors": digit_anchors(means, validation.labels.cpu()).tolist(), "limit": LIMIT}
    uid = "vaex-" + hashlib.sha256(payload["layers"][0]["w"].encode()).hexdigest()[:10]
    return TEMPLATE.replace("__UID__", uid).replace("__SCALE__", str(28 * SCALE)).replace(
        "__LIMIT__", f"{LIMIT:g}").replace("__PAYLOAD__", json.dumps(payload, separators=(",", ":")))


def decoder_payload(model: VAE) -> dict:
    """The decoder's linear layers as base64 little-endian float16 (weights row-major, out x in) and its activation."""
    linears = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    activations = {type(m).__name__ for m in model.decoder if not isinstance(m, torch.nn.Linear)}
    names = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "Tanh": "tanh", "ELU": "elu", "Softplus": "softplus"}
    return {
        "activation": names[activations.pop()] if activations else "relu",
        "layers": [{"in": m.in_features, "out": m.out_features, "w": half_base64(m.weight), "b": half_base64(m.bias)}
                   for m in linears],
    }


def half_base64(tensor: torch.Tensor) -> str:
    """A tensor's values as base64 of little-endian float16."""
    return base64.b64encode(tensor.detach().cpu().numpy().astype("<f2").tobytes()).decode("ascii")


def latent_map_payload(means: torch.Tensor, labels: torch.Tensor, square: float) -> dict:
    """The latent scatter (dashed square [-square, square]^2) as a PNG data URI, and how z maps to its pixels."""
    from .widgets import LatentMap, encode_png

    latent_map = LatentMap(means, labels, square)
    from PIL import Image

    png = encode_png(Image.fromarray(latent_map.background))
    height, width = latent_map.background.shape[:2]
    return {"map": "data:image/png;base64," + base64.b64encode(png).decode("ascii"), "mapWidth": width,
            "mapHeight": height, "origin": latent_map.origin.tolist(), "unit": latent_map.unit.tolist()}


def digit_anchors(means: torch.Tensor, labels: torch.Tensor) -> np.ndarray:
    """Each digit's typical latent point: the coordinate-wise median of its validation images' posterior means."""
    return np.array([means[labels == d].median(dim=0).values.tolist() if (labels == d).any() else [0.0, 0.0]
                     for d in range(10)])


TEMPLATE = """<div class="vae-explorer" id="__UID__" style="font-family:sans-serif;font-size:14px">
<p style="margin:0.3em 0"><b>Latent-2 VAE, explorable without a kernel.</b> Move z<sub>1</sub> and z<sub>2</sub>:
the picture is the decoder's output at that point, computed in your browser from the trained weights; the
ring on the map marks the point.</p>
<div style="display:flex;flex-wrap:wrap;gap:18px;align-items:center">
 <div>
  <label style="display:block">z<sub>1</sub> <input type="range" id="__UID__-z1" min="-__LIMIT__" max="__LIMIT__"
   step="0.05" value="0" aria-label="z1"> <output id="__UID__-z1-value">0.00</output></label>
  <label style="display:block">z<sub>2</sub> <input type="range" id="__UID__-z2" min="-__LIMIT__" max="__LIMIT__"
   step="0.05" value="0" aria-label="z2"> <output id="__UID__-z2-value">0.00</output></label>
  <label style="display:block"><input type="checkbox" id="__UID__-binary"> binary sample (default: Bernoulli
   means)</label>
  <canvas id="__UID__-image" width="28" height="28" title="decoded image"
   style="width:__SCALE__px;height:__SCALE__px;image-rendering:pixelated;border:1px solid #ccc"></canvas>
 </div>
 <div style="position:relative;display:inline-block">
  <img id="__UID__-map" alt="validation images in the latent space" style="display:block">
  <canvas id="__UID__-marker" style="position:absolute;left:0;top:0;pointer-events:none"></canvas>
 </div>
</div>
<p style="margin:0.6em 0 0.3em 0"><b>Interpolation.</b> α mixes the typical latent points (medians of the
posterior means) of two digits: (1 − α)·start + α·end, shown as a red ring on the map.</p>
<div style="display:flex;flex-wrap:wrap;gap:14px;align-items:center">
 <label>start <select id="__UID__-from"></select></label>
 <label>end <select id="__UID__-to"></select></label>
 <label>α <input type="range" id="__UID__-alpha" min="0" max="1" step="0.02" value="0.5" aria-label="alpha">
  <output id="__UID__-alpha-value">0.50</output></label>
 <canvas id="__UID__-start" width="28" height="28" title="start"
  style="width:84px;height:84px;image-rendering:pixelated;border:1px solid #ccc"></canvas>
 <canvas id="__UID__-mix" width="28" height="28" title="mix"
  style="width:__SCALE__px;height:__SCALE__px;image-rendering:pixelated;border:1px solid #ccc"></canvas>
 <canvas id="__UID__-end" width="28" height="28" title="end"
  style="width:84px;height:84px;image-rendering:pixelated;border:1px solid #ccc"></canvas>
</div>
<script>
(function () {
  const P = __PAYLOAD__;
  const $ = (name) => document.getElementById("__UID__-" + name);
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
  const layers = P.layers.map((l) => ({n: l.in, m: l.out, w: halves(l.w), b: halves(l.b)}));
  const act = {relu: (x) => (x > 0 ? x : 0), leaky_relu: (x) => (x > 0 ? x : 0.01 * x), tanh: Math.tanh,
    elu: (x) => (x > 0 ? x : Math.exp(x) - 1), softplus: (x) => (x > 20 ? x : Math.log1p(Math.exp(x)))}[P.activation];
  function decode(z) {  // Bernoulli means of the 784 pixels at latent point z
    let h = Float32Array.from(z);
    layers.forEach((l, k) => {
      const out = new Float32Array(l.m);
      for (let j = 0; j < l.m; j++) {
        let s = l.b[j];
        const row = j * l.n;
        for (let i = 0; i < l.n; i++) s += l.w[row + i] * h[i];
        out[j] = k < layers.length - 1 ? act(s) : 1 / (1 + Math.exp(-s));
      }
      h = out;
    });
    return h;
  }
  function paint(name, p) {  // ink dark on white, optionally one binary draw
    const ctx = $(name).getContext("2d"), img = ctx.createImageData(28, 28);
    const binary = $("binary").checked;
    for (let i = 0; i < 784; i++) {
      const v = binary ? (Math.random() < p[i] ? 1 : 0) : p[i], g = Math.round(255 * (1 - v));
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }
  const map = $("map"), marker = $("marker");
  map.src = P.map;
  map.width = marker.width = P.mapWidth;
  map.height = marker.height = P.mapHeight;
  function ring(ctx, z, color) {
    const x = P.origin[0] + P.unit[0] * z[0], y = P.origin[1] + P.unit[1] * z[1];
    ctx.strokeStyle = color; ctx.lineWidth = 3;
    ctx.beginPath(); ctx.arc(x, y, 8, 0, 2 * Math.PI); ctx.stroke();
  }
  const sliderPoint = () => [+$("z1").value, +$("z2").value];
  function mixPoint() {
    const a = +$("alpha").value, s = P.anchors[+$("from").value], e = P.anchors[+$("to").value];
    return [(1 - a) * s[0] + a * e[0], (1 - a) * s[1] + a * e[1]];
  }
  function drawMarkers() {
    const ctx = marker.getContext("2d");
    ctx.clearRect(0, 0, marker.width, marker.height);
    ring(ctx, mixPoint(), "#d62728");
    ring(ctx, sliderPoint(), "#000");
  }
  function updateSliders() {
    $("z1-value").value = (+$("z1").value).toFixed(2);
    $("z2-value").value = (+$("z2").value).toFixed(2);
    paint("image", decode(sliderPoint()));
    drawMarkers();
  }
  function updateMix() {
    $("alpha-value").value = (+$("alpha").value).toFixed(2);
    paint("start", decode(P.anchors[+$("from").value]));
    paint("end", decode(P.anchors[+$("to").value]));
    paint("mix", decode(mixPoint()));
    drawMarkers();
  }
  ["from", "to"].forEach((name, k) => {
    for (let d = 0; d < 10; d++) $(name).add(new Option("digit " + d, d, false, d === (k ? 7 : 1)));
    $(name).addEventListener("change", updateMix);
  });
  ["z1", "z2"].forEach((name) => $(name).addEventListener("input", updateSliders));
  $("alpha").addEventListener("input", updateMix);
  $("binary").addEventListener("change", () => { updateSliders(); updateMix(); });
  updateSliders();
  updateMix();
})();
</script>
</div>
"""
