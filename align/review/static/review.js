// polyalign review page. The server holds the document and its history; this page draws rows, sends edits
// (each with the revision it saw, so a stale tab gets 409 instead of overwriting) and draws what comes back.
// Only the rows in view are in the DOM, so 5,000 rows scroll like 50. Each row's height is estimated from its
// text (characters per line of a column), so positions are known without drawing; a cell whose text is longer
// than the estimate scrolls.
"use strict";

const LINE = 19;           // px: a line of sentence text (14px font, line-height 1.35)
const CHAR = 7.4;          // px: an average character's width at that size
const MIN_LINES = 3;       // the number cell's three lines
const MAX_H = 320;         // px: longer rows scroll inside their cells
const OVERSCAN = 6;        // rows drawn above and below the view
const $ = (id) => document.getElementById(id);

let doc = null;            // the server's state (see session.state())
let view = [];             // row indices shown, in order (all rows, or the weak ones)
let tops = new Float64Array(1);  // tops[at]: where view[at] starts; tops[view.length]: the height of all
let weakOnly = false;
let sel = { row: 0, version: null, sentence: null };
let pending = Promise.resolve();  // edits run one after another, each on the state the previous one left
let paragraphStarts = new Set();

// Keys: [label, description, action]; the help overlay is drawn from this table.
const KEYS = [
  ["↑ ↓  PgUp PgDn  Home End", "select a row", null],
  ["← →", "select the previous / next sentence of the row", null],
  ["Enter", "confirm the row (and go to the next)", "confirm"],
  ["Shift+Enter", "confirm every row up to here", "confirm_up_to"],
  ["R", "reject the row", "reject"],
  ["U", "back to automatic (unconfirm, unreject)", "unconfirm"],
  ["M", "merge with the next row", "merge"],
  ["Shift+M", "merge with the previous row", "merge_previous"],
  ["X", "split the row (first sentences stay, the rest go below)", "split"],
  ["Alt+↑", "move the sentence (and those before it) up into the previous row", "move_up"],
  ["Alt+↓", "move the sentence (and those after it) down into the next row", "move_down"],
  ["0", "the sentence has no counterpart (a row of its own)", "no_counterpart"],
  ["S", "split the sentence at the text cursor (click in it first)", "split_sentence"],
  ["J", "join the sentence with the next sentence of its version", "join_sentences"],
  ["N", "next unconfirmed row", "next_unconfirmed"],
  ["W", "weakest unconfirmed row", "weakest"],
  ["F", "show weak rows only / all rows", "filter"],
  ["Ctrl+Z", "undo", "undo"],
  ["Ctrl+Y, Ctrl+Shift+Z", "redo", "redo"],
  ["A", "re-align the rest around the confirmed rows", "realign"],
  ["E", "export the confirmed rows as TMX", "export"],
  ["?", "this help (Esc closes it)", "help"],
];

function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function band(row) {
  if (row.cert >= doc.bands.high) return "high";
  return row.cert >= doc.bands.weak ? "mid" : "weak";
}

function isWeak(row) { return row.status !== "confirmed" && row.cert < doc.bands.weak; }

// -- talking to the server ------------------------------------------------------------------------------------

async function call(path, payload) {
  const options = payload === undefined ? {} :
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) };
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    say("the review server does not answer (was polyalign review stopped?); every edit shown was saved");
    return null;
  }
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (response.status === 409) { showConflict(data.error); return null; }
  if (!response.ok) { say(data.error || `error ${response.status}`); return null; }
  return data;
}

async function load() {
  const data = await call("api/state");
  if (data) setState(data);
}

async function edit(op, args) {
  if (!doc || !$("conflict").hidden) return;
  const path = op === "undo" || op === "redo" ? `api/${op}` : "api/edit";
  const data = await call(path, { op, args, rev: doc.rev });
  if (data) setState(data, op);
}

async function realign() {
  if (!doc) return;
  say("re-aligning around the confirmed rows… (the model loads the first time)");
  const data = await call("api/realign", { rev: doc.rev });
  if (data) setState(data);
}

function queue(task) {
  // Keys pressed quickly queue up: each action sees the rows and the selection the one before left.
  pending = pending.then(task).catch((error) => say(String(error)));
}

function run(action) { queue(() => ACTIONS[action]()); }

async function reload() {
  const data = await call("api/reload", {});
  if (data) { $("conflict").hidden = true; setState(data); }
}

function showConflict(text) {
  $("conflict-text").textContent = `${text}. Your last edit was not saved. Reload to continue from the saved file.`;
  $("conflict").hidden = false;
}

function say(text) { $("message").textContent = text || ""; }

// -- state and drawing -------------------------------------------------------------------------------------------

function setState(data, op) {
  const first = doc === null;
  doc = data;
  paragraphStarts = new Set(doc.paragraphStarts);
  $("file").textContent = doc.file;
  document.title = `${doc.file} — polyalign review`;
  if (first) {
    $("heads").innerHTML = doc.versions.map((v) => `<div>${esc(v.name)} <small>${esc(v.title)}</small></div>`).join("");
  }
  buildView();
  sel.row = Math.min(sel.row, Math.max(doc.rows.length - 1, 0));
  if (sel.sentence && !rowSentences(sel.row).some((s) => s.id === sel.sentence)) sel.sentence = null;
  say(data.message || (op ? `${op.replace(/_/g, " ")}: saved` : ""));
  drawCounts();
  drawMinimap();
  draw();
}

function buildView() {
  view = [];
  doc.rows.forEach((row, k) => { if (!weakOnly || isWeak(row) || k === sel.row) view.push(k); });
  layout();
}

function rowHeight(row, perLine) {
  let lines = MIN_LINES;
  row.slots.forEach((slot, v) => {
    let n = 0;
    for (const id of slot) {
      n += (doc.sentences[doc.versions[v].name][id].length + 3) / perLine;
      if (doc.gloss[id]) n += Math.ceil((doc.gloss[id].length + 5) / (perLine * 1.15));
    }
    lines = Math.max(lines, Math.ceil(n));
  });
  return Math.min(MAX_H, lines * LINE + 12);
}

function layout() {
  const port = $("viewport");
  const column = (port.clientWidth - 96) / Math.max(1, doc.versions.length) - 18;
  const perLine = Math.max(8, Math.floor(column / CHAR));
  tops = new Float64Array(view.length + 1);
  view.forEach((k, at) => { tops[at + 1] = tops[at] + rowHeight(doc.rows[k], perLine); });
  $("spacer").style.height = `${tops[view.length]}px`;
}

function rowAt(y) {
  // the position in ``view`` of the row that covers y (binary search over tops)
  let lo = 0, hi = Math.max(0, view.length - 1);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (tops[mid] <= y) lo = mid; else hi = mid - 1;
  }
  return lo;
}

function drawCounts() {
  const count = { confirmed: 0, auto: 0, weak: 0, rejected: 0 };
  for (const row of doc.rows) {
    count[row.status] += 1;
    if (isWeak(row) && row.status === "auto") count.weak += 1;
  }
  $("counts").innerHTML = `<span class="confirmed" data-count="confirmed">${count.confirmed} confirmed</span>` +
    `<span class="auto" data-count="auto">${count.auto} automatic</span>` +
    `<span class="weak" data-count="weak">${count.weak} weak</span>` +
    `<span class="rejected" data-count="rejected">${count.rejected} rejected</span>` +
    `<span>${doc.rows.length} rows</span>`;
  document.querySelector('[data-action="undo"]').disabled = !doc.canUndo;
  document.querySelector('[data-action="redo"]').disabled = !doc.canRedo;
}

function rowSentences(k) {
  const row = doc.rows[k];
  if (!row) return [];
  return row.slots.flatMap((slot, v) => slot.map((id) => ({ id, version: doc.versions[v].name })));
}

function rowHtml(k, at) {
  const row = doc.rows[k];
  const changed = doc.changed.includes(k) ? " changed" : "";
  const classes = `row band-${band(row)} st-${row.status}${k === sel.row ? " selected" : ""}${changed}`;
  const icon = { confirmed: "✓", rejected: "✗", auto: "·" }[row.status];
  const who = row.edited ? " edited" : "";
  const cells = row.slots.map((slot, v) => {
    const name = doc.versions[v].name;
    if (!slot.length) return `<div class="cell"><span class="empty">— no counterpart</span></div>`;
    return `<div class="cell">${slot.map((id) => {
      const text = doc.sentences[name][id];
      const gloss = doc.gloss[id] ? `<span class="gloss">${esc(doc.gloss[id])}</span>` : "";
      const cls = `s${paragraphStarts.has(id) ? " par" : ""}${id === sel.sentence ? " sel" : ""}`;
      return `<span class="${cls}" data-id="${esc(id)}" data-version="${esc(name)}" title="${esc(id)}">${esc(text)}</span>${gloss}`;
    }).join("")}</div>`;
  }).join("");
  return `<div class="${classes}" data-row="${k}" style="top:${tops[at]}px;height:${tops[at + 1] - tops[at]}px">` +
    `<div class="num"><span class="state">${icon}</span> ${k + 1}<span class="cert">${(row.cert * 100).toFixed(0)}%${who}</span>` +
    `<small>${esc(row.status)}</small></div>${cells}</div>`;
}

function draw() {
  const port = $("viewport");
  const first = Math.max(0, rowAt(port.scrollTop) - OVERSCAN);
  const last = Math.min(view.length, rowAt(port.scrollTop + port.clientHeight) + 1 + OVERSCAN);
  let html = "";
  for (let at = first; at < last; at++) html += rowHtml(view[at], at);
  $("spacer").innerHTML = html;
  drawMinimapView();
}

let drawQueued = false;
function drawSoon() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; draw(); });
}

function minimapColour(row) {
  if (row.status === "confirmed") return "#1f5fbf";
  if (row.status === "rejected") return "#6b3a8c";
  return { high: "#7cc47c", mid: "#e8c14a", weak: "#d9463b" }[band(row)];
}

function drawMinimap() {
  const canvas = $("minimap-canvas");
  const box = $("minimap").getBoundingClientRect();
  canvas.width = Math.max(1, Math.floor(box.width));
  canvas.height = Math.max(1, Math.floor(box.height));
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const scale = canvas.height / Math.max(1, tops[view.length]);  // the minimap is the document, shrunk
  const changed = new Set(doc.changed);
  view.forEach((k, at) => {
    const row = doc.rows[k];
    const y = Math.floor(tops[at] * scale);
    const h = Math.max(1, Math.ceil(tops[at + 1] * scale) - y);
    ctx.fillStyle = minimapColour(row);
    // confirmed and rejected rows fill the strip; automatic ones its right part, so review state shows apart from colour
    const x = row.status === "auto" ? canvas.width * 0.35 : 0;
    ctx.fillRect(x, y, canvas.width - x, h);
    if (changed.has(k)) { ctx.fillStyle = "#111"; ctx.fillRect(0, y, canvas.width * 0.3, h); }  // re-aligned
  });
}

function drawMinimapView() {
  const port = $("viewport");
  const total = Math.max(tops[view.length], 1);
  const height = $("minimap").clientHeight;
  const box = $("minimap-view");
  box.style.top = `${(port.scrollTop / total) * height}px`;
  box.style.height = `${Math.max(4, Math.min(1, port.clientHeight / total) * height)}px`;
}

// -- selection and navigation ------------------------------------------------------------------------------------

function select(k, sentence) {
  if (!doc || !doc.rows.length) return;
  sel.row = Math.max(0, Math.min(doc.rows.length - 1, k));
  const found = sentence && rowSentences(sel.row).find((s) => s.id === sentence);
  sel.sentence = found ? found.id : null;
  sel.version = found ? found.version : null;
  if (!view.includes(sel.row)) buildView();
  scrollIntoView(sel.row);
  draw();
}

function scrollIntoView(k) {
  const at = view.indexOf(k);
  if (at < 0) return;
  const port = $("viewport");
  const top = tops[at], bottom = tops[at + 1];
  if (top < port.scrollTop) port.scrollTop = top;
  else if (bottom > port.scrollTop + port.clientHeight) port.scrollTop = Math.min(top, bottom - port.clientHeight);
}

function step(delta) {
  const at = Math.max(0, view.indexOf(sel.row));
  const next = view[Math.max(0, Math.min(view.length - 1, at + delta))];
  if (next !== undefined) select(next);
}

function stepSentence(delta) {
  const list = rowSentences(sel.row);
  if (!list.length) return;
  const at = list.findIndex((s) => s.id === sel.sentence);
  const next = list[(at + delta + list.length) % list.length] || list[0];
  select(sel.row, next.id);
}

function nextUnconfirmed() {
  const n = doc.rows.length;
  for (let d = 1; d <= n; d++) {
    const k = (sel.row + d) % n;
    if (doc.rows[k].status === "auto") return select(k);
  }
  say("every row is confirmed or rejected");
}

function weakest() {
  let best = -1;
  doc.rows.forEach((row, k) => { if (row.status === "auto" && (best < 0 || row.cert < doc.rows[best].cert)) best = k; });
  if (best < 0) say("no unconfirmed row left"); else select(best);
}

function toggleFilter() {
  weakOnly = !weakOnly;
  document.querySelector('[data-action="filter"]').setAttribute("aria-pressed", String(weakOnly));
  buildView();
  drawMinimap();
  scrollIntoView(sel.row);
  draw();
  say(weakOnly ? `showing ${view.length} weak rows` : "showing every row");
}

function caretOffset() {
  // Where the text cursor is in the selected sentence: the number of its characters before the cursor.
  const selection = window.getSelection();
  if (!selection.rangeCount) return null;
  const node = selection.anchorNode;
  const span = node && (node.nodeType === 1 ? node : node.parentElement).closest(".s");
  if (!span) return null;
  const range = document.createRange();
  range.setStart(span, 0);
  range.setEnd(node, selection.anchorOffset);
  return { id: span.dataset.id, version: span.dataset.version, offset: range.toString().length, row: +span.closest(".row").dataset.row };
}

function needSentence() {
  if (!sel.sentence) { say("select a sentence first (click it, or ← →)"); return null; }
  return { row: sel.row, version: sel.version, sentence: sel.sentence };
}

function help(show) { $("help").hidden = !(show === undefined ? $("help").hidden : show); }

const ACTIONS = {
  // Moving on after the answer comes back: only if the reviewer has not clicked another row meanwhile.
  confirm: () => { const k = sel.row; return edit("confirm", { row: k }).then(() => { if (sel.row === k) step(1); }); },
  confirm_up_to: () => edit("confirm_up_to", { row: sel.row }),
  reject: () => edit("reject", { row: sel.row }),
  unconfirm: () => edit("unconfirm", { row: sel.row }),
  merge: () => edit("merge", { row: sel.row }),
  merge_previous: () => { const k = sel.row; return edit("merge_previous", { row: k }).then(() => { if (sel.row === k) select(k - 1); }); },
  split: () => edit("split", { row: sel.row }),
  move_up: () => { const a = needSentence(); return a && edit("move_up", a); },
  move_down: () => { const a = needSentence(); return a && edit("move_down", a); },
  no_counterpart: () => { const a = needSentence(); return a && edit("no_counterpart", a); },
  split_sentence: () => {
    const caret = caretOffset();
    if (!caret) { say("click in a sentence where it should be split, then press S"); return null; }
    sel.row = caret.row;
    return edit("split_sentence", { version: caret.version, sentence: caret.id, offset: caret.offset });
  },
  join_sentences: () => { const a = needSentence(); return a && edit("join_sentences", { version: a.version, sentence: a.sentence }); },
  next_unconfirmed: nextUnconfirmed,
  weakest,
  filter: toggleFilter,
  undo: () => edit("undo"),
  redo: () => edit("redo"),
  realign,
  export: () => { window.location.href = "api/export.tmx"; },
  reload,
  help: () => help(),
};

function actionForKey(e) {
  const key = e.key;
  const ctrl = e.ctrlKey || e.metaKey;
  if (ctrl && (key === "z" || key === "Z")) return e.shiftKey ? "redo" : "undo";
  if (ctrl && (key === "y" || key === "Y")) return "redo";
  if (ctrl) return null;
  if (e.altKey && key === "ArrowUp") return "move_up";
  if (e.altKey && key === "ArrowDown") return "move_down";
  if (key === "Enter") return e.shiftKey ? "confirm_up_to" : "confirm";
  return { r: "reject", R: "reject", u: "unconfirm", U: "unconfirm", m: "merge", M: "merge_previous", x: "split", X: "split", 0: "no_counterpart",
           s: "split_sentence", S: "split_sentence", j: "join_sentences", J: "join_sentences", n: "next_unconfirmed",
           N: "next_unconfirmed", w: "weakest", W: "weakest", f: "filter", F: "filter", a: "realign", A: "realign",
           e: "export", E: "export", "?": "help" }[key] || null;
}

function onKey(e) {
  if (!doc) return;
  if (!$("help").hidden) { if (e.key === "Escape" || e.key === "?") { help(false); e.preventDefault(); } return; }
  const moves = { ArrowUp: -1, ArrowDown: 1, PageUp: -8, PageDown: 8, Home: -1e9, End: 1e9 };
  if (!e.altKey && !e.ctrlKey && e.key in moves) { const d = moves[e.key]; queue(() => step(d)); e.preventDefault(); return; }
  if (!e.altKey && !e.ctrlKey && (e.key === "ArrowLeft" || e.key === "ArrowRight")) {
    const d = e.key === "ArrowLeft" ? -1 : 1;
    queue(() => stepSentence(d)); e.preventDefault(); return;
  }
  const action = actionForKey(e);
  if (action) { e.preventDefault(); run(action); }
}

function onClick(e) {
  const button = e.target.closest("button[data-action]");
  if (button) { button.blur(); run(button.dataset.action); return; }  // blur: Enter must not press it again
  const sentence = e.target.closest(".s");
  const row = e.target.closest(".row");
  if (row) {
    sel.row = +row.dataset.row;
    const found = sentence ? rowSentences(sel.row).find((s) => s.id === sentence.dataset.id) : null;
    sel.sentence = found ? found.id : null;
    sel.version = found ? found.version : null;
    // redraw the classes only: rebuilding the row would lose the text cursor a split needs
    document.querySelectorAll(".row.selected").forEach((r) => r.classList.remove("selected"));
    document.querySelectorAll(".s.sel").forEach((s) => s.classList.remove("sel"));
    row.classList.add("selected");
    if (sentence) sentence.classList.add("sel");
  }
}

function onMinimap(e) {
  const box = $("minimap").getBoundingClientRect();
  const k = view[rowAt(((e.clientY - box.top) / box.height) * tops[view.length])];
  if (k === undefined) return;
  $("viewport").scrollTop = Math.max(0, tops[view.indexOf(k)] - $("viewport").clientHeight / 2);
  select(k);
}

function init() {
  $("help-keys").innerHTML = KEYS.map(([keys, what]) =>
    `<tr><td>${keys.split(", ").map((k) => `<kbd>${esc(k)}</kbd>`).join(" ")}</td><td>${esc(what)}</td></tr>`).join("");
  document.addEventListener("keydown", onKey);
  document.addEventListener("click", onClick);
  $("viewport").addEventListener("scroll", drawSoon, { passive: true });
  $("minimap").addEventListener("click", onMinimap);
  window.addEventListener("resize", () => { if (doc) { layout(); drawMinimap(); draw(); } });
  load();
}

init();
