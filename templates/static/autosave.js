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

// 2. Import page: a chosen CSV file is read into the text box, so it can be checked before it is
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
