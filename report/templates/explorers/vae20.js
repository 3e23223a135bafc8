// A VAE of any latent size: sliders along the leading principal directions of the posterior means,
// a draw from the prior, reset, and alpha between the posterior means of two validation images.
(function (uid) {
  const K = window.ExplorerKit, {$, data: P} = K.setup(uid);
  const decode = K.network(P.decoder, (s) => 1 / (1 + Math.exp(-s)));
  const prior = K.normal(1);
  const sliders = P.directions.map((_, i) => $("pc" + (i + 1)));
  let base = Float32Array.from(P.centre);
  const point = () => K.along(base, P.directions, sliders.map((s) => +s.value));
  const endpoint = (name) => P.endpoints[+$(name).value].z;
  function update() {
    sliders.forEach((s, i) => { $("pc" + (i + 1) + "-value").value = (+s.value).toFixed(2); });
    K.paint($("image"), decode(point()));
  }
  function updateEnds() {  // only when the images change: alpha redraws the mix alone
    K.paint($("start"), decode(endpoint("from")));
    K.paint($("end"), decode(endpoint("to")));
    updateMix();
  }
  function updateMix() {
    $("alpha-value").value = (+$("alpha").value).toFixed(2);
    K.paint($("mix"), decode(K.mix(endpoint("from"), endpoint("to"), +$("alpha").value)));
  }
  function restart(origin) {  // sliders back to 0 around a new base point
    base = origin;
    sliders.forEach((s) => { s.value = "0"; });
    update();
  }
  sliders.forEach((s) => s.addEventListener("input", update));
  $("prior").addEventListener("click", () => restart(Float32Array.from(P.centre, () => prior())));
  $("reset").addEventListener("click", () => restart(Float32Array.from(P.centre)));
  ["from", "to"].forEach((name) => $(name).addEventListener("change", updateEnds));
  $("alpha").addEventListener("input", updateMix);
  update();
  updateEnds();
})(document.currentScript.dataset.uid);
