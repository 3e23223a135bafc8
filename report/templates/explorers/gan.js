// A generator: sliders along its leading noise directions (for the chosen digit when conditional),
// and alpha between two noise vectors; "new pair" draws two more.
(function (uid) {
  const K = window.ExplorerKit, {$, data: P} = K.setup(uid);
  const generate = K.network(P.generator, (s) => (Math.tanh(s) + 1) / 2);  // tanh, mapped to [0, 1]
  const noise = K.normal(2);
  const sliders = P.directions[0].map((_, i) => $("dir" + (i + 1)));
  let start = Float32Array.from(P.start), end = Float32Array.from(P.end);
  const digit = () => (P.classes ? +$("digit").value : 0);
  function draw(z) {  // the image for noise z (and the chosen digit's embedding)
    const input = P.classes ? Float32Array.from([...z, ...P.embedding[digit()]]) : z;
    return generate(input);
  }
  function update() {
    sliders.forEach((s, i) => { $("dir" + (i + 1) + "-value").value = (+s.value).toFixed(2); });
    K.paint($("image"), draw(K.along(P.origin, P.directions[digit()], sliders.map((s) => +s.value))));
  }
  function updateEnds() {  // only for a new pair or digit: alpha redraws the mix alone
    K.paint($("start"), draw(start));
    K.paint($("end"), draw(end));
    updateMix();
  }
  function updateMix() {
    $("alpha-value").value = (+$("alpha").value).toFixed(2);
    K.paint($("mix"), draw(K.mix(start, end, +$("alpha").value)));
  }
  sliders.forEach((s) => s.addEventListener("input", update));
  $("reset").addEventListener("click", () => { sliders.forEach((s) => { s.value = "0"; }); update(); });
  $("pair").addEventListener("click", () => {
    start = Float32Array.from(start, () => noise());
    end = Float32Array.from(end, () => noise());
    updateEnds();
  });
  $("alpha").addEventListener("input", updateMix);
  if (P.classes) $("digit").addEventListener("change", () => { update(); updateEnds(); });
  update();
  updateEnds();
})(document.currentScript.dataset.uid);
