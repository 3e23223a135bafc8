// The latent-2 VAE: two coordinate sliders, click or drag on the latent map, alpha between two digits' anchors.
(function (uid) {
  const K = window.ExplorerKit, {$, data: P} = K.setup(uid);
  const decode = K.network(P.decoder, (s) => 1 / (1 + Math.exp(-s)));
  const marker = $("marker");
  marker.width = P.mapWidth;
  marker.height = P.mapHeight;
  function ring(ctx, z, color) {
    const x = P.origin[0] + P.unit[0] * z[0], y = P.origin[1] + P.unit[1] * z[1];
    ctx.strokeStyle = color; ctx.lineWidth = 3;
    ctx.beginPath(); ctx.arc(x, y, 8, 0, 2 * Math.PI); ctx.stroke();
  }
  const sliderPoint = () => [+$("z1").value, +$("z2").value];
  const mixPoint = () => K.mix(P.anchors[+$("from").value], P.anchors[+$("to").value], +$("alpha").value);
  function drawMarkers() {
    const ctx = marker.getContext("2d");
    ctx.clearRect(0, 0, marker.width, marker.height);
    ring(ctx, mixPoint(), "#d62728");
    ring(ctx, sliderPoint(), "#000");
  }
  function updateSliders() {
    $("z1-value").value = (+$("z1").value).toFixed(2);
    $("z2-value").value = (+$("z2").value).toFixed(2);
    K.paint($("image"), decode(sliderPoint()), $("binary").checked);
    drawMarkers();
  }
  function updateEnds() {  // only when the digits change: alpha redraws the mix alone
    K.paint($("start"), decode(P.anchors[+$("from").value]), $("binary").checked);
    K.paint($("end"), decode(P.anchors[+$("to").value]), $("binary").checked);
    updateMix();
  }
  function updateMix() {
    $("alpha-value").value = (+$("alpha").value).toFixed(2);
    K.paint($("mix"), decode(mixPoint()), $("binary").checked);
    drawMarkers();
  }
  function moveTo(event) {  // a click or drag on the map moves the point there (on the sliders' grid)
    const box = $("map").getBoundingClientRect(), sx = P.mapWidth / box.width, sy = P.mapHeight / box.height;
    const z = [((event.clientX - box.left) * sx - P.origin[0]) / P.unit[0],
      ((event.clientY - box.top) * sy - P.origin[1]) / P.unit[1]];
    ["z1", "z2"].forEach((name, k) => {
      $(name).value = Math.max(-P.limit, Math.min(P.limit, Math.round(z[k] / 0.05) * 0.05)).toFixed(2);
    });
    updateSliders();
  }
  let dragging = false;
  $("map-box").addEventListener("pointerdown", (e) => { dragging = true; moveTo(e); e.preventDefault(); });
  $("map-box").addEventListener("pointermove", (e) => { if (dragging) moveTo(e); });
  window.addEventListener("pointerup", () => { dragging = false; });
  ["z1", "z2"].forEach((name) => $(name).addEventListener("input", updateSliders));
  ["from", "to"].forEach((name) => $(name).addEventListener("change", updateEnds));
  $("alpha").addEventListener("input", updateMix);
  $("binary").addEventListener("change", () => { updateSliders(); updateEnds(); });
  updateSliders();
  updateEnds();
})(document.currentScript.dataset.uid);
