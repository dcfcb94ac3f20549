// Progressive enhancements only: every page works without this file.
(function () {
  "use strict";

  // The certificate's print button exists only where printing from a button can work.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // Actions that cannot be undone ask once more before they are sent.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // A people import running in the background: follow its progress, then show its report once it is finished.
  var importProgress = document.querySelector("[data-import-progress]");
  if (importProgress && window.fetch) {
    var progressText = importProgress.querySelector("[data-import-progress-text]");
    var followImport = function () {
      window.fetch(importProgress.getAttribute("data-import-progress"), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (state) {
          if (!state) { return; }
          if (state.finished) { window.location.reload(); return; }
          if (state.status === "importing" && progressText) {
            progressText.textContent = "Importing: " + state.applied.toLocaleString() + " of " + state.total.toLocaleString() + " people done.";
          }
          window.setTimeout(followImport, 2000);
        })
        .catch(function () { window.setTimeout(followImport, 10000); });
    };
    window.setTimeout(followImport, 1000);
  }

  // Bring a form's error summary into view and focus, so keyboard and screen-reader users hear it first.
  var summary = document.querySelector(".error-summary[tabindex='-1']");
  if (summary) {
    summary.focus();
  }
})();
