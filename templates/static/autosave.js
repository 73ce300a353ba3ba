// epa-panel: small enhancements for pages that work without them.
// 1. Score sheet autosave. Without it the sheet still works (the "Save draft" button posts the
// whole form). With it, each changed item is posted to the same address as soon as it changes;
// changes not yet saved are kept on this device, so a dropped connection or a reload loses
// nothing, and they are sent again when it is back.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.URLSearchParams) { return; }
  var status = document.getElementById("autosave-status");
  var counter = document.getElementById("scored-count");
  var storeKey = "epa-panel-draft:" + form.getAttribute("data-autosave");
  var pending = {};
  var timer = null;
  var sending = false;

  function say(text) { if (status) { status.textContent = text; } }
  function itemOf(name) { var p = name.split(":"); return p.length === 3 ? p[1] + ":" + p[2] : null; }
  function isItemField(el) { return el && el.name && (el.name.indexOf("s:") === 0 || el.name.indexOf("c:") === 0); }

  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { return {}; }
  }
  function keep() {
    try {
      if (Object.keys(pending).length) { window.localStorage.setItem(storeKey, JSON.stringify(pending)); }
      else { window.localStorage.removeItem(storeKey); }
    } catch (e) { /* private mode: keep in memory only */ }
  }

  function scoreOf(item) {
    var checked = form.querySelector('input[type="radio"][name="s:' + item + '"]:checked');
    return checked ? checked.value : "";
  }
  function commentOf(item) {
    var el = form.elements["c:" + item];
    return el ? el.value : "";
  }
  function countScored() {
    if (!counter) { return; }
    var names = {};
    Array.prototype.forEach.call(form.querySelectorAll('input[type="radio"][name^="s:"]:checked'), function (el) { names[el.name] = true; });
    counter.textContent = String(Object.keys(names).length);
  }

  // Put back what was changed here but not saved before the page was left.
  var restored = load();
  Object.keys(restored).forEach(function (item) {
    var v = restored[item];
    if (v.score) {
      var radio = form.querySelector('input[type="radio"][name="s:' + item + '"][value="' + v.score + '"]');
      if (radio) { radio.checked = true; }
    }
    var c = form.elements["c:" + item];
    if (c && typeof v.comment === "string") { c.value = v.comment; }
    pending[item] = v;
  });
  countScored();

  function note(el) {
    var item = itemOf(el.name);
    if (!item) { return; }
    pending[item] = { score: scoreOf(item), comment: commentOf(item) };
    keep();
  }

  function flush() {
    timer = null;
    if (sending) { schedule(800); return; }
    var items = Object.keys(pending).filter(function (i) { return pending[i].score; });
    if (!items.length) {
      if (Object.keys(pending).length) { say("A comment is saved together with its score: choose a score to save it."); }
      return;
    }
    var body = new URLSearchParams();
    body.append("csrf", form.elements.csrf.value);
    body.append("autosave", "1");
    var sent = {};
    items.forEach(function (i) {
      sent[i] = pending[i];
      body.append("s:" + i, pending[i].score);
      body.append("c:" + i, pending[i].comment);
    });
    sending = true;
    say("Saving…");
    fetch(form.getAttribute("action"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) {
      var type = r.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1) {
        // Sent to the sign-in page: the session has ended.
        return { ok: false, json: { error: "you are signed out. Sign in again (in another tab); your changes are kept on this device" } };
      }
      return r.json().then(function (j) { return { ok: r.ok, json: j }; });
    }).then(function (res) {
      sending = false;
      if (!res.ok) { say("Not saved: " + (res.json.error || "the server refused it") + "."); return; }
      items.forEach(function (i) {
        var now = pending[i];
        if (now && now.score === sent[i].score && now.comment === sent[i].comment) { delete pending[i]; }
      });
      keep();
      var t = new Date();
      var hh = ("0" + t.getHours()).slice(-2), mm = ("0" + t.getMinutes()).slice(-2);
      var left = typeof res.json.missing === "number" ? " " + res.json.missing + " item(s) still to score." : "";
      say("Draft saved at " + hh + ":" + mm + "." + left);
    }).catch(function () {
      sending = false;
      say("Not saved yet: no connection. Your changes are kept on this device and will be sent when the connection is back.");
      schedule(10000);
    });
  }

  function schedule(ms) {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(flush, ms);
  }

  form.addEventListener("change", function (e) {
    if (!isItemField(e.target)) { return; }
    note(e.target);
    countScored();
    schedule(300);
  });
  form.addEventListener("input", function (e) {
    if (!isItemField(e.target) || e.target.tagName !== "TEXTAREA") { return; }
    note(e.target);
    schedule(1500);
  });
  window.addEventListener("online", function () { schedule(100); });
  window.addEventListener("pagehide", function () { if (timer) { flush(); } });
  if (Object.keys(pending).length) { schedule(500); }
})();

// 2. The long score sheet: each section's progress and the count of items scored follow the
// radios as they change (the server writes them right on load, so without this script they are
// right until the next change), and "Next unscored item" goes to the first item still to score
// after the one being worked on (wrapping round), focusing its first score. Without the script
// that link goes to the first item unscored when the page was loaded.
(function () {
  "use strict";
  var form = document.getElementById("field-scores");
  var next = document.getElementById("next-unscored");
  if (!form || !next || !form.querySelectorAll) { return; }
  var items = Array.prototype.slice.call(form.querySelectorAll(".item"));
  var current = null;

  function scored(item) { return !!item.querySelector('input[type="radio"]:checked'); }
  function refresh() {
    Array.prototype.forEach.call(form.querySelectorAll("section[data-section]"), function (section) {
      var all = section.querySelectorAll(".item");
      var done = Array.prototype.filter.call(all, scored).length;
      var text = done + "/" + all.length;
      Array.prototype.forEach.call(document.querySelectorAll('[data-progress="' + section.id + '"]'), function (el) {
        el.textContent = text;
        el.classList.toggle("complete", done === all.length);
      });
    });
    var counter = document.getElementById("scored-count");
    if (counter) { counter.textContent = String(items.filter(scored).length); }
    var target = following();
    next.hidden = !target;
    if (target) { next.setAttribute("href", "#" + target.id); }
  }
  // The first unscored item after the current one, wrapping round; null when all are scored.
  function following() {
    var from = current ? items.indexOf(current) : -1;
    for (var k = 1; k <= items.length; k++) {
      var item = items[(from + k) % items.length];
      if (!scored(item)) { return item; }
    }
    return null;
  }
  form.addEventListener("focusin", function (e) {
    var item = e.target.closest && e.target.closest(".item");
    if (item) { current = item; }
  });
  form.addEventListener("change", function (e) {
    var item = e.target.closest && e.target.closest(".item");
    if (item) { current = item; }
    refresh();
  });
  next.addEventListener("click", function (e) {
    var target = following();
    if (!target) { return; }
    e.preventDefault();
    current = target;
    target.scrollIntoView({ block: "start" });
    if (window.history && window.history.replaceState) { window.history.replaceState(null, "", "#" + target.id); }
    var radio = target.querySelector('input[type="radio"]');
    if (radio) { radio.focus({ preventScroll: true }); }
    refresh();
  });
  refresh();
})();

// 3. Import page: a chosen CSV file is read into the text box, so it can be checked before it is
// sent. Without this script the box still takes pasted text (the file picker stays hidden).
(function () {
  "use strict";
  var picker = document.querySelector("input[type=file][data-fill]");
  if (!picker || !window.FileReader) { return; }
  var target = document.getElementById(picker.getAttribute("data-fill"));
  if (!target) { return; }
  picker.closest("[hidden]") && picker.closest("[hidden]").removeAttribute("hidden");
  picker.addEventListener("change", function () {
    var file = picker.files && picker.files[0];
    if (!file) { return; }
    var reader = new FileReader();
    reader.onload = function () { target.value = String(reader.result || "").replace(/^\uFEFF/, ""); target.focus(); };
    reader.readAsText(file);
  });
})();
