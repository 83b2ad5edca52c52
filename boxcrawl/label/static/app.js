// boxcrawl labeling page. Plain JS, no dependencies.
// Labels are applied at once and queued; a row shows as saved only after the server has committed it.
(function () {
  "use strict";

  const LABELS = { "1": ["good", "good"], "0": ["bad", "bad"], "2": ["poor", "good w/ mistakes"], "-1": ["error", "error"] };
  const KEYS = { "-": 0, "+": 1, "=": 1, "/": 2, "]": 2, "*": -1, "0": -1 };
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const POLL_MIN = 1000, POLL_MAX = 5000;
  const $ = (id) => document.getElementById(id);

  const state = {
    entries: [], pos: 0, seq: 0, byIndex: new Map(),
    queue: [], sending: false, retryDelay: 500, lastError: "",
    undo: [], sessionCount: 0, sessionStart: Date.now(),
    pollDelay: POLL_MIN, pollTimer: null, prefetched: [],
  };

  const has = (e) => e.good !== undefined && e.good !== null;
  const cls = (good) => (good === undefined || good === null ? "" : LABELS[String(good)][0]);

  function decoded(url) {
    try { return decodeURI(url); } catch (_) { return url; }
  }

  // ---- list ------------------------------------------------------------------------------------------
  function buildList() {
    const list = $("list");
    list.textContent = "";
    state.entries.forEach((e, pos) => {
      const li = document.createElement("li");
      li.dataset.index = e.index;
      li.title = e.url;
      li.textContent = decoded(e.url);
      li.addEventListener("click", () => go(pos));
      e.row = li;
      renderRow(e);
      list.appendChild(li);
    });
  }

  function renderRow(e) {
    const li = e.row;
    li.className = cls(e.good) + (state.entries[state.pos] === e ? " current" : "");
    if (has(e)) li.dataset.good = e.good; else delete li.dataset.good;
    li.dataset.saved = e.pending > 0 ? "0" : "1";
  }

  function renderSummary() {
    const n = state.entries.length;
    const counts = { good: 0, poor: 0, bad: 0, error: 0 };
    let labelled = 0;
    for (const e of state.entries) if (has(e)) { labelled++; counts[cls(e.good)]++; }
    $("progress-text").textContent = `${labelled} / ${n} labelled (${n ? Math.floor(100 * labelled / n) : 0}%)`;
    $("progress-fill").style.width = `${n ? 100 * labelled / n : 0}%`;
    const c = $("counts");
    c.textContent = "";
    for (const [k, name, colour] of [["good", "good", "--good"], ["poor", "w/ mistakes", "--poor"],
                                     ["bad", "bad", "--bad"], ["error", "error", "--error"]]) {
      const span = document.createElement("span");
      span.id = `count-${k}`;
      const i = document.createElement("i");
      i.style.background = `var(${colour})`;
      span.append(i, `${name} ${counts[k]}`);
      c.appendChild(span);
    }
    const minutes = (Date.now() - state.sessionStart) / 60000;
    $("pace").textContent = state.sessionCount
      ? `this session: ${state.sessionCount} labels, ${(60 * minutes / state.sessionCount).toFixed(1)} s each` : "";
  }

  function renderSaveStatus() {
    const s = $("save-status");
    const n = state.queue.length;
    if (state.lastError) { s.className = "fail"; s.textContent = `${n} unsaved: ${state.lastError}`; }
    else if (n) { s.className = "busy"; s.textContent = `saving ${n}…`; }
    else { s.className = "ok"; s.textContent = "all labels saved"; }
  }

  // ---- current entry ------------------------------------------------------------------------------------
  function showImage(fig, img, src) {
    fig.classList.toggle("no-image", !src);
    if (src) { if (img.getAttribute("src") !== src) img.src = src; } else img.removeAttribute("src");
  }

  function renderCurrent() {
    const e = state.entries[state.pos];
    if (!e) return;
    $("position").textContent = `${state.pos + 1} / ${state.entries.length}`;
    const a = $("url");
    a.href = e.url;
    a.textContent = decoded(e.url);
    const lab = $("current-label");
    lab.className = cls(e.good);
    lab.textContent = has(e) ? LABELS[String(e.good)][1] + (e.labeler ? ` · ${e.labeler}` : "") : "unrated";
    $("shots").className = cls(e.good);
    showImage($("orig-fig"), $("orig"), e.screenshot);
    showImage($("dist-fig"), $("dist"), e.distilled);
    $("dist-caption").textContent = e.distillation ? `distilled (${e.distillation})` : "distilled";
  }

  function nextUnrated(from) {
    const n = state.entries.length;
    for (let k = 1; k <= n; k++) {
      const p = (from + k) % n;
      if (!has(state.entries[p])) return p;
    }
    return -1;
  }

  function prefetch() {
    state.prefetched = [];
    const targets = new Set([state.pos + 1, nextUnrated(state.pos)]);
    for (const p of targets) {
      const e = state.entries[p];
      if (!e || p === state.pos) continue;
      for (const src of [e.screenshot, e.distilled]) {
        if (!src) continue;
        const img = new Image();
        img.src = src;
        state.prefetched.push(img);
      }
    }
  }

  function go(pos) {
    if (!state.entries.length) return;
    pos = Math.max(0, Math.min(state.entries.length - 1, pos));
    const old = state.entries[state.pos];
    state.pos = pos;
    if (old) renderRow(old);
    const e = state.entries[pos];
    renderRow(e);
    e.row.scrollIntoView({ block: "nearest" });
    if (location.hash !== `#${e.index}`) history.replaceState(null, "", `#${e.index}`);
    $("shots").scrollTop = 0;
    renderCurrent();
    prefetch();
  }

  function fromHash() {
    const idx = parseInt(location.hash.slice(1), 10);
    const pos = state.entries.findIndex((e) => e.index === idx);
    return pos;
  }

  // ---- labeling -----------------------------------------------------------------------------------------
  function labeler() {
    const input = $("labeler");
    const name = input.value.trim();
    input.classList.toggle("missing", !name);
    if (!name) { input.focus(); message("type your name first: every label records who set it"); }
    return name;
  }

  function message(text) {
    $("message").textContent = text;
    clearTimeout(message.timer);
    if (text) message.timer = setTimeout(() => { $("message").textContent = ""; }, 4000);
  }

  function apply(e, good, who) {
    if (good === null) { delete e.good; delete e.labeler; } else { e.good = good; e.labeler = who; }
    e.pending = (e.pending || 0) + 1;
    state.queue.push({ index: e.index, good: good, labeler: who });
    renderRow(e);
    renderSummary();
    renderSaveStatus();
    if (state.entries[state.pos] === e) renderCurrent();
    flush();
  }

  function setLabel(good) {
    const who = labeler();
    if (!who) return;
    const e = state.entries[state.pos];
    state.undo.push({ index: e.index, good: has(e) ? e.good : null });
    if (state.undo.length > 200) state.undo.shift();
    apply(e, good, who);
    if (good === null) return;
    state.sessionCount++;
    renderSummary();
    let target = state.pos + 1;
    if ($("auto").checked) {
      const p = nextUnrated(state.pos);
      if (p >= 0) target = p; else message("every entry is labelled");
    }
    if (target < state.entries.length) go(target);
  }

  function undo() {
    const last = state.undo.pop();
    if (!last) { message("nothing to undo"); return; }
    const who = labeler();
    if (!who) { state.undo.push(last); return; }
    const pos = state.entries.findIndex((e) => e.index === last.index);
    apply(state.entries[pos], last.good, who);
    go(pos);
  }

  // One request at a time, in order, retried until the server has it.
  async function flush() {
    if (state.sending || !state.queue.length) return;
    state.sending = true;
    const op = state.queue[0];
    let retry = false;
    try {
      const r = await fetch("api/label", {
        method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
        body: JSON.stringify(op), credentials: "same-origin",
      });
      if (r.ok) {
        const saved = await r.json();
        state.queue.shift();
        state.lastError = "";
        state.retryDelay = 500;
        const e = state.byIndex.get(op.index);
        e.pending--;
        if (!e.pending && saved.good !== null) e.at = saved.at;
        renderRow(e);
      } else if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        const body = await r.json().catch(() => ({}));
        state.lastError = body.error || `refused (${r.status})`;
        if (r.status === 403 || r.status === 401) retry = true;   // keep it: reloading the page fixes these
        else {   // refused for good: drop it and show the server's state, not a label it does not have
          state.queue.shift();
          state.byIndex.get(op.index).pending--;
          state.sending = false;
          renderSaveStatus();
          await load(true).catch(() => {});
          return flush();
        }
      } else { state.lastError = `server error ${r.status}, retrying`; retry = true; }
    } catch (_) {
      state.lastError = "server unreachable, retrying";
      retry = true;
    }
    state.sending = false;
    renderSaveStatus();
    if (retry) {
      setTimeout(flush, state.retryDelay);
      state.retryDelay = Math.min(state.retryDelay * 2, 5000);
    } else flush();
  }

  // ---- other labelers ---------------------------------------------------------------------------------------
  async function poll() {
    clearTimeout(state.pollTimer);
    if (document.hidden) return;
    let changed = false;
    try {
      const r = await fetch(`api/updates?since=${state.seq}`, { credentials: "same-origin" });
      const body = await r.json();
      if (body.resync) { await load(true); changed = true; }
      else if (r.ok) {
        for (const u of body.updates) {
          const e = state.byIndex.get(u.index);
          if (!e || e.pending > 0) continue;   // our own newer change is on its way
          if (u.good === null) { delete e.good; delete e.labeler; } else { e.good = u.good; e.labeler = u.labeler; e.at = u.at; }
          renderRow(e);
          if (state.entries[state.pos] === e) renderCurrent();
          changed = true;
        }
        state.seq = body.seq;
        if (changed) renderSummary();
      }
    } catch (_) { /* the save status shows connectivity; keep polling */ }
    state.pollDelay = changed ? POLL_MIN : Math.min(state.pollDelay * 1.5, POLL_MAX);
    state.pollTimer = setTimeout(poll, state.pollDelay);
  }

  function pollSoon() { state.pollDelay = POLL_MIN; clearTimeout(state.pollTimer); state.pollTimer = setTimeout(poll, POLL_MIN); }

  async function load(keepPosition) {
    const r = await fetch("api/entries", { credentials: "same-origin" });
    const body = await r.json();
    const current = state.entries[state.pos];
    state.entries = body.entries;
    state.byIndex = new Map(state.entries.map((e) => [e.index, e]));
    for (const e of state.entries) e.pending = 0;
    for (const op of state.queue) {   // changes not yet saved stay visible (and pending) over a reload
      const e = state.byIndex.get(op.index);
      if (!e) continue;
      e.pending++;
      if (op.good === null) { delete e.good; delete e.labeler; } else { e.good = op.good; e.labeler = op.labeler; }
    }
    state.seq = body.seq;
    buildList();
    renderSummary();
    let pos = fromHash();
    if (keepPosition && current) pos = state.entries.findIndex((e) => e.index === current.index);
    if (pos < 0) {
      // No deep link: start at a random unrated entry, so labelers sharing a set spread out.
      const unrated = state.entries.map((e, p) => (has(e) ? -1 : p)).filter((p) => p >= 0);
      pos = unrated.length ? unrated[Math.floor(Math.random() * unrated.length)] : 0;
    }
    go(pos);
  }

  // ---- wiring ----------------------------------------------------------------------------------------------
  function onKey(ev) {
    if (ev.target instanceof HTMLInputElement && ev.target.type !== "checkbox") {
      if (ev.key === "Escape" || ev.key === "Enter") ev.target.blur();
      return;
    }
    if (ev.ctrlKey && ev.key === "z") { ev.preventDefault(); undo(); return; }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key in KEYS) { ev.preventDefault(); setLabel(KEYS[ev.key]); }
    else if (ev.key === "ArrowLeft") { ev.preventDefault(); go(state.pos - 1); }
    else if (ev.key === "ArrowRight") { ev.preventDefault(); go(state.pos + 1); }
    else if (ev.key === "z") undo();
    else if (ev.key === " ") {   // long screenshots: page through them without reaching for the mouse
      ev.preventDefault();
      const shots = $("shots");
      shots.scrollBy({ top: (ev.shiftKey ? -0.8 : 0.8) * shots.clientHeight, behavior: "smooth" });
    }
    else if (ev.key === "n") { const p = nextUnrated(state.pos); if (p >= 0) go(p); else message("every entry is labelled"); }
    else if (ev.key === "Backspace" || ev.key === "Delete") { ev.preventDefault(); setLabel(null); }
  }

  function init() {
    const name = $("labeler");
    const fromQuery = new URLSearchParams(location.search).get("labeler");
    name.value = fromQuery || localStorage.getItem("boxcrawl.labeler") || "";
    name.addEventListener("input", () => { localStorage.setItem("boxcrawl.labeler", name.value.trim()); name.classList.remove("missing"); });
    const auto = $("auto");
    auto.checked = localStorage.getItem("boxcrawl.auto") !== "0";
    auto.addEventListener("change", () => localStorage.setItem("boxcrawl.auto", auto.checked ? "1" : "0"));
    for (const b of document.querySelectorAll("#buttons button[data-good]")) {
      b.addEventListener("click", () => setLabel(parseInt(b.dataset.good, 10)));
    }
    $("reset").addEventListener("click", () => setLabel(null));
    $("undo").addEventListener("click", undo);
    $("prev").addEventListener("click", () => go(state.pos - 1));
    $("next").addEventListener("click", () => go(state.pos + 1));
    $("next-unrated").addEventListener("click", () => { const p = nextUnrated(state.pos); if (p >= 0) go(p); });
    document.addEventListener("keydown", onKey);
    for (const id of ["orig", "dist"]) {
      $(id).addEventListener("error", () => $(`${id}-fig`).classList.add("no-image"));
    }
    window.addEventListener("hashchange", () => { const p = fromHash(); if (p >= 0 && p !== state.pos) go(p); });
    document.addEventListener("visibilitychange", () => { if (!document.hidden) pollSoon(); });
    window.addEventListener("beforeunload", (ev) => { if (state.queue.length) { ev.preventDefault(); ev.returnValue = ""; } });
    setInterval(renderSummary, 30000);
    load(false).then(() => { renderSaveStatus(); pollSoon(); }).catch(() => {
      $("progress-text").textContent = "cannot reach the server; reload to retry";
    });
  }

  init();
})();
