// The compose and segment pages: live Telegram preview, live audience count, fields per vertical.
(function () {
  "use strict";
  var form = document.getElementById("bd-compose") || document.getElementById("bd-segment-form");
  if (!form) { return; }
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var botSelect = form.querySelector("#bot_id");

  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  function selectedBot() {
    var option = botSelect.options[botSelect.selectedIndex];
    return option && option.value ? option : null;
  }

  // --- fields of the bot's vertical only ----------------------------------------------------------
  function showVertical() {
    var bot = selectedBot();
    var vertical = bot ? bot.getAttribute("data-vertical") : "";
    form.querySelectorAll(".bd-vertical").forEach(function (group) {
      var mine = group.getAttribute("data-vertical") === vertical;
      group.hidden = !mine;
      group.querySelectorAll("input, select").forEach(function (el) { el.disabled = !mine; });
    });
    var paid = document.getElementById("bd-paid-group");
    if (paid) { paid.hidden = !(bot && bot.getAttribute("data-paid") === "1"); }
    showSegments(bot);
  }

  // --- saved segments of the chosen bot -----------------------------------------------------------
  // Another bot's segments are taken out of the list (not just hidden: a select whose chosen
  // option is hidden shows nothing), and the choice falls on the first of this bot's.
  var segmentSelect = document.getElementById("segment_id");
  var allSegments = segmentSelect ? Array.prototype.slice.call(segmentSelect.options) : [];
  function showSegments(bot) {
    if (!segmentSelect) { return; }
    var chosen = segmentSelect.value;
    var mine = allSegments.filter(function (o) { return bot && o.getAttribute("data-bot") === bot.value; });
    segmentSelect.innerHTML = "";
    mine.forEach(function (option) { segmentSelect.appendChild(option); });
    var keep = mine.some(function (o) { return o.value === chosen; });
    segmentSelect.value = keep ? chosen : (mine.length ? mine[0].value : "");
    var none = document.getElementById("bd-no-segments");
    if (none) { none.hidden = !bot || mine.length > 0; }
    describeSegment();
  }
  function describeSegment() {
    var box = document.getElementById("bd-segment-description");
    if (!box || !segmentSelect) { return; }
    var option = segmentSelect.options[segmentSelect.selectedIndex];
    box.textContent = option ? option.getAttribute("data-description") : "";
  }

  function audienceMode() {
    var checked = form.querySelector("input[name=audience]:checked");
    return checked ? checked.value : "filters";
  }

  function showAudienceMode() {
    var segmentGroup = document.getElementById("bd-segment-group");
    var filtersGroup = document.getElementById("bd-filters-group");
    if (!segmentGroup || !filtersGroup) { return; }
    var segment = audienceMode() === "segment";
    segmentGroup.hidden = !segment;
    filtersGroup.querySelectorAll(".form-row").forEach(function (row) { row.style.opacity = segment ? 0.4 : 1; });
  }

  // --- live audience count ------------------------------------------------------------------------
  var audienceBox = document.getElementById("bd-audience");
  function refreshAudience() {
    if (!audienceBox) { return; }
    var count = document.getElementById("bd-audience-count");
    var error = document.getElementById("bd-audience-error");
    var sample = document.getElementById("bd-audience-sample");
    var described = document.getElementById("bd-audience-description");
    var leftOut = document.getElementById("bd-left-out");
    described.textContent = "";
    leftOut.textContent = "";
    if (!selectedBot()) { count.textContent = "—"; return; }
    var data = new FormData();
    form.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (!el.name || el.disabled || el.type === "file") { return; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      data.append(el.name, el.value);
    });
    if (!data.has("bot_id")) { data.append("bot_id", botSelect.value); }
    fetch(audienceBox.getAttribute("data-url"), {
      method: "POST", body: data, credentials: "same-origin", headers: { "X-CSRFToken": csrf }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (reply) {
      sample.innerHTML = "";
      if (!reply.ok) {
        count.textContent = "—";
        var messages = [];
        Object.keys(reply.body.error || {}).forEach(function (field) { messages.push(reply.body.error[field]); });
        error.textContent = messages.join("; ");
        return;
      }
      error.textContent = "";
      count.textContent = reply.body.count;
      described.textContent = reply.body.description || "";
      var parts = (reply.body.left_out_words || []).map(function (row) { return row.text; });
      leftOut.textContent = parts.length ? leftOut.getAttribute("data-label") + ": " + parts.join(" · ") : "";
      reply.body.sample.forEach(function (row) {
        var item = document.createElement("li");
        item.textContent = row.first_name || "…";
        sample.appendChild(item);
      });
    }).catch(function () { error.textContent = "…"; });
  }
  var refreshAudienceSoon = debounce(refreshAudience, 300);

  // --- live preview -------------------------------------------------------------------------------
  var preview = document.getElementById("bd-preview");
  var text = document.getElementById("bd-text");
  var photo = document.getElementById("photo");
  function hasPhoto() {
    var remove = form.querySelector("input[name=remove_photo]");
    var kept = remove && !remove.checked;
    return Boolean((photo && photo.files && photo.files.length) || kept);
  }
  function refreshPreview() {
    if (!preview || !text) { return; }
    document.getElementById("bd-photo-slot").hidden = !hasPhoto();
    fetch(preview.getAttribute("data-url"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ text: text.value, photo: hasPhoto() })
    }).then(function (response) { return response.json(); }).then(function (body) {
      preview.innerHTML = body.html;  // built by the server from allowed tags only, everything else escaped
      document.getElementById("bd-length").textContent = body.length;
      document.getElementById("bd-limit").textContent = body.limit;
      document.getElementById("bd-preview-error").textContent = body.error || "";
    });
  }
  var refreshPreviewSoon = debounce(refreshPreview, 200);

  var buttons = document.getElementById("buttons");
  function refreshButtons() {
    var keyboard = document.getElementById("bd-keyboard");
    if (!keyboard || !buttons) { return; }
    keyboard.innerHTML = "";
    buttons.value.split("\n").forEach(function (line) {
      if (!line.trim()) { return; }
      var row = document.createElement("div");
      row.className = "bd-row";
      line.split("||").forEach(function (cell) {
        var button = document.createElement("div");
        button.className = "bd-button";
        var label = cell.split("|")[0].trim();
        var target = cell.split("|").slice(1).join("|").trim();
        button.textContent = label + (/^(https?|tg):\/\//.test(target) ? " ↗" : "");
        row.appendChild(button);
      });
      keyboard.appendChild(row);
    });
  }

  // --- wiring -------------------------------------------------------------------------------------
  if (botSelect) {
    botSelect.addEventListener("change", function () { showVertical(); refreshAudienceSoon(); });
  }
  form.querySelectorAll("input[name=audience]").forEach(function (el) {
    el.addEventListener("change", function () { showAudienceMode(); refreshAudienceSoon(); });
  });
  var audienceArea = document.getElementById("bd-filters") || form;
  audienceArea.addEventListener("input", refreshAudienceSoon);
  audienceArea.addEventListener("change", refreshAudienceSoon);
  if (segmentSelect) {
    segmentSelect.addEventListener("change", function () { describeSegment(); refreshAudienceSoon(); });
  }
  if (text) { text.addEventListener("input", refreshPreviewSoon); }
  if (photo) { photo.addEventListener("change", refreshPreviewSoon); }
  if (buttons) { buttons.addEventListener("input", refreshButtons); }

  showVertical();
  showAudienceMode();
  refreshAudience();
  refreshPreview();
  refreshButtons();
}());
