// Polls the upload's progress (JSON) and reloads the page when the background task is done.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) { return; }
  var bar = document.getElementById("import-progress-bar");
  var url = box.getAttribute("data-url");
  function show(percent) {
    var step = Math.max(0, Math.min(100, Math.round(percent / 5) * 5));
    bar.className = bar.className.replace(/\bprogress-\d+\b/, "progress-" + step);
    bar.textContent = percent + "%";
    bar.parentNode.setAttribute("aria-valuenow", String(percent));
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        show(data.percent);
        if (data.running) { window.setTimeout(poll, 1000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
}());
