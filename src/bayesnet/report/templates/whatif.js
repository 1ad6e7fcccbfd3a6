(function () {
  "use strict";
  // The what-if panel: pick the precomputed texts of the grid point nearest to the slider.
  var d = JSON.parse(document.getElementById("wi-data").textContent);
  var r = document.getElementById("wi-ratio"), t = document.getElementById("wi-t");
  function nearest(v) {
    var b = 0;
    for (var i = 1; i < d.ratio.length; i++) {
      if (Math.abs(d.ratio[i] - v) < Math.abs(d.ratio[b] - v)) { b = i; }
    }
    return b;
  }
  function set(id, s) {
    var e = document.getElementById(id);
    if (e) { e.textContent = s; }
  }
  function update() {
    var i = nearest(parseFloat(r.value)), k = t.value;
    set("wi-ratio-out", d.ratio_text[i]);
    set("wi-p-pooled", d.p.pooled[k][i]);
    set("wi-p-predictive", d.p.predictive[k][i]);
    var ts = document.querySelectorAll(".wi-t");
    for (var j = 0; j < ts.length; j++) { ts[j].textContent = k; }
    for (var a = 0; a < d.absolute.length; a++) {
      set("wi-abs-" + a + "-pooled", d.absolute[a].pooled[i]);
      set("wi-abs-" + a + "-predictive", d.absolute[a].predictive[i]);
    }
  }
  r.addEventListener("input", update);
  t.addEventListener("change", update);
  update();
})();
