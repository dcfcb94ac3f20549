// The editor's live preview: the server renders the source with the same pipeline as learners' pages
// (sanitized), a moment after the mentor stops typing. Without this script, the Preview button does the same.
(function () {
  "use strict";
  var form = document.querySelector("[data-editor]");
  if (!form || !window.fetch) { return; }
  var source = form.querySelector("textarea[name=source]");
  var preview = document.getElementById("preview");
  var problems = document.getElementById("problems");
  var title = document.getElementById("problems-title");
  var status = form.querySelector("[data-preview-status]");
  var token = form.querySelector("input[name=csrf_token]").value;
  var timer = null;
  var sent = 0;

  function show(data, number) {
    if (number !== sent) { return; }  // an older answer arriving late must not replace a newer one
    preview.innerHTML = data.html;
    problems.textContent = "";
    data.problems.forEach(function (problem) {
      var item = document.createElement("li");
      item.textContent = "Line " + problem.line + ": " + problem.message;
      problems.appendChild(item);
    });
    title.textContent = data.problems.length ? data.problems.length + " problem(s) to fix before publishing" : "No problems found";
    status.textContent = "(up to date)";
  }

  function refresh() {
    var body = new FormData();
    body.append("module_id", form.getAttribute("data-module-id"));
    body.append("source", source.value);
    sent += 1;
    var number = sent;
    status.textContent = "(updating…)";
    fetch(form.getAttribute("data-preview-url"), { method: "POST", body: body, headers: { "X-CSRFToken": token }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) { show(data, number); })
      .catch(function () { status.textContent = "(preview unavailable: use the Preview button)"; });
  }

  source.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 600);
  });
})();
