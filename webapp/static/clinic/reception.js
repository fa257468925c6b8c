// The booking form's patient search: the console's JSON search as you type; a click on a result
// chooses that patient (the hidden patient_id), "Choose another" goes back to searching.
(function () {
  "use strict";

  var search = document.getElementById("rc-search");
  if (!search) return;
  var results = document.getElementById("rc-results");
  var chosenId = document.getElementById("rc-patient-id");
  var chosenBox = document.getElementById("rc-chosen");
  var chosenName = document.getElementById("rc-chosen-name");
  var finder = document.getElementById("rc-find");
  var timer = null;
  var asked = 0;

  function choose(patient) {
    chosenId.value = patient ? patient.id : "";
    chosenName.textContent = patient ? patient.name + " · " + patient.phone : "";
    chosenBox.classList.toggle("d-none", !patient);
    finder.classList.toggle("d-none", !!patient);
    if (!patient) search.focus();
  }

  function show(patients) {
    results.textContent = "";
    if (!patients.length) {
      var none = document.createElement("div");
      none.className = "list-group-item text-muted";
      none.textContent = search.getAttribute("data-none");
      results.appendChild(none);
      return;
    }
    patients.forEach(function (patient) {
      var item = document.createElement("button");
      item.type = "button";
      item.className = "list-group-item list-group-item-action rc-result";
      item.setAttribute("data-patient", patient.id);
      var parts = [patient.name, patient.iin, patient.phone, patient.birth_date.split("-").reverse().join(".")];
      item.textContent = parts.filter(Boolean).join(" · ");
      item.addEventListener("click", function () { choose(patient); });
      results.appendChild(item);
    });
  }

  function ask() {
    var text = search.value.trim();
    var mine = ++asked;
    if (text.length < 2) { results.textContent = ""; return; }
    var url = search.getAttribute("data-url") + "?q=" + encodeURIComponent(text);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { patients: [] }; })
      .then(function (body) { if (mine === asked) show(body.patients || []); });
  }

  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  });
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); ask(); }
  });
  document.getElementById("rc-unchoose").addEventListener("click", function () { choose(null); });
})();
