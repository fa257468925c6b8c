// The broadcast page: poll the progress endpoint every second while the broadcast is moving, and turn
// the datetime-local picker into an ISO time with the browser's UTC offset for scheduling.
(function () {
  "use strict";
  var box = document.getElementById("bd-progress");
  var fields = ["total_recipients", "sent_count", "failed_count", "blocked_count", "unknown_count",
    "pending_count", "rate_per_second", "eta_seconds"];

  function apply(stats) {
    var bar = document.getElementById("bd-bar");
    bar.style.width = stats.progress_percent + "%";
    bar.setAttribute("aria-valuenow", stats.progress_percent);
    bar.textContent = stats.progress_percent + "%";
    fields.forEach(function (name) {
      var el = document.getElementById("bd-" + name);
      if (el) { el.textContent = stats[name] === null ? "—" : stats[name]; }
    });
    var status = document.getElementById("bd-status");
    if (box.getAttribute("data-status") !== stats.status) {
      status.textContent = stats.status_label;
      box.setAttribute("data-status", stats.status);
    }
  }

  function poll() {
    fetch(box.getAttribute("data-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (stats) {
        var was = box.getAttribute("data-status");
        apply(stats);
        if (stats.status === "sending" || stats.status === "scheduled") {
          setTimeout(poll, 1000);
        } else if (was !== stats.status) {
          window.location.reload();  // the actions that make sense changed
        }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  if (box && ["sending", "scheduled"].indexOf(box.getAttribute("data-status")) >= 0) { setTimeout(poll, 1000); }

  var scheduleForm = document.getElementById("bd-schedule-form");
  var zoneNote = document.getElementById("bd-schedule-zone");
  if (zoneNote && window.Intl) {  // the typed time is the browser's: name that zone next to the field
    zoneNote.textContent = zoneNote.getAttribute("data-label") + ": " + Intl.DateTimeFormat().resolvedOptions().timeZone;
  }
  if (scheduleForm) {
    scheduleForm.addEventListener("submit", function () {
      var local = document.getElementById("bd-scheduled-local").value;  // "2026-05-01T10:30"
      var when = new Date(local);
      var offset = -when.getTimezoneOffset();
      var sign = offset >= 0 ? "+" : "-";
      var pad = function (n) { return String(Math.floor(Math.abs(n))).padStart(2, "0"); };
      document.getElementById("bd-scheduled-at").value =
        local + ":00" + sign + pad(offset / 60) + ":" + pad(offset % 60);
    });
  }
  document.querySelectorAll(".bd-local-time").forEach(function (el) {
    el.textContent = new Date(el.getAttribute("datetime")).toLocaleString();
  });
}());
