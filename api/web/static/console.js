// Small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // Ask before destructive actions (forms marked data-confirm).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    // Prevent double submission; show what is happening.
    var button = form.querySelector("button[type=submit]");
    if (button && form.method.toLowerCase() === "post") {
      window.setTimeout(function () {
        button.disabled = true;
        if (button.dataset.busy) { button.textContent = button.dataset.busy; }
      }, 0);
    }
  });
  // "/" focuses the page's search box (unless typing in a field).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) { return; }
    var box = document.querySelector("[data-shortcut='/']");
    if (box) { event.preventDefault(); box.focus(); }
  });
  // "Back" links (no inline script: the Content-Security-Policy forbids it).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-back]") : null;
    if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });
  // A queued slate: poll its run until a worker has finished it, then reload to show the slate.
  var run = document.getElementById("slate-run");
  if (run && (run.dataset.status === "queued" || run.dataset.status === "running")) {
    var poll = function () {
      fetch(run.dataset.runUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.json(); })
        .then(function (state) {
          run.dataset.status = state.status;
          run.className = "run-status run-" + state.status;
          run.querySelector(".run-label").textContent = state.label;
          if (state.finished) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 1000);
  }
  // Move focus to the flash message so screen readers and keyboard users notice it.
  var flash = document.querySelector(".flash");
  if (flash) { flash.setAttribute("tabindex", "-1"); flash.focus(); }
})();
