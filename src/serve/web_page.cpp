#include "serve/web_page.h"

namespace pt2onnx::serve {

namespace {

// The page reads GET /models (every model's card) and posts each dropped
// file to the chosen model's classify route. Elements carry data- attributes
// (data-file, data-label, data-score) so that a browser test reads what the
// page drew, not only the text.
constexpr std::string_view kPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pt2onnx serve</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f5f6f8; }
  header { background: #1d2330; color: #fff; padding: 12px 24px; display: flex; gap: 16px; align-items: center; }
  header h1 { font-size: 18px; margin: 0; font-weight: 600; }
  main { max-width: 960px; margin: 0 auto; padding: 16px 24px; }
  section { background: #fff; border: 1px solid #dde1e7; border-radius: 8px; padding: 14px 18px; margin-bottom: 16px; }
  h2 { font-size: 16px; margin: 0 0 8px; }
  table.card { border-collapse: collapse; width: 100%; }
  table.card th { text-align: left; font-weight: 500; color: #5b6475; width: 190px; padding: 3px 8px 3px 0; vertical-align: top; }
  table.card td { padding: 3px 0; word-break: break-all; }
  code { font-size: 13px; }
  #drop { border: 2px dashed #9aa3b2; border-radius: 8px; padding: 28px; text-align: center; color: #5b6475; cursor: pointer; }
  #drop.over { border-color: #2f6fde; background: #eef4ff; }
  .result { border-top: 1px solid #e6e9ee; padding: 10px 0; }
  .result .head { display: flex; justify-content: space-between; gap: 12px; }
  .result .name { font-weight: 600; word-break: break-all; }
  .result .latency { color: #5b6475; font-size: 13px; white-space: nowrap; }
  .result .error { color: #b3261e; }
  .row { display: grid; grid-template-columns: 180px 1fr 70px; gap: 8px; align-items: center; margin: 3px 0; }
  .row .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .track { background: #e9edf3; border-radius: 4px; height: 14px; }
  .fill { background: #2f6fde; border-radius: 4px; height: 14px; }
  .value { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<header><h1>pt2onnx serve</h1><label>Model <select id="model"></select></label></header>
<main>
  <section><h2>Model card</h2><table class="card" id="card"></table></section>
  <section>
    <h2>Classify images</h2>
    <div id="drop">Drop JPEG, PNG or DICOM files here, or click to choose them.</div>
    <input type="file" id="files" multiple hidden>
    <div id="results"></div>
  </section>
</main>
<script>
"use strict";
let cards = [];
const el = (tag, attrs = {}, text = "") => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== "") e.textContent = text;
  return e;
};
const current = () => cards.find(c => c.name === document.getElementById("model").value);

function showCard() {
  const c = current(), table = document.getElementById("card");
  table.replaceChildren();
  if (!c) return;
  const p = c.preprocess;
  const rows = [
    ["Name", `${c.name} (version ${c.version}, file ${c.file})`],
    ["Labels", c.labels.join(", ")],
    ["Scores", c.activation],
    ["Input", `${c.input.name}: 3 x ${c.input.height} x ${c.input.width}`],
    ["Preprocessing", `resize ${p.resize || "-"}, crop ${p.crop || "-"}, ${p.interpolation || "-"}, ` +
                      `mean ${p.mean || "-"}, std ${p.std || "-"}, color ${p.color || "-"}`],
    ["Architecture", c.architecture || "-"],
    ["Checkpoint", c.checkpoint_file || "-"],
    ["Checkpoint SHA-256", c.checkpoint_sha256 || "-"],
    ["Opset", String(c.opset)],
    ["Producer", c.producer || "-"],
    ["Batching", `up to ${c.max_batch} images per engine run`],
  ];
  for (const [k, v] of rows) {
    const tr = el("tr");
    tr.append(el("th", {}, k), el("td", {"data-field": k}, v));
    table.append(tr);
  }
}

async function classify(file) {
  const c = current();
  const box = el("div", {"class": "result", "data-file": file.name, "data-state": "pending"});
  const head = el("div", {"class": "head"});
  const latency = el("span", {"class": "latency"}, "...");
  head.append(el("span", {"class": "name"}, file.name), latency);
  box.append(head);
  document.getElementById("results").prepend(box);
  const started = performance.now();
  try {
    const res = await fetch(`/v2/models/${encodeURIComponent(c.name)}/classify`, {method: "POST", body: file});
    const total = performance.now() - started;
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
    const timing = /dur=([0-9.]+)/.exec(res.headers.get("Server-Timing") || "");
    latency.textContent = `${total.toFixed(1)} ms` + (timing ? ` (engine and preprocessing ${Number(timing[1]).toFixed(1)} ms)` : "");
    const entries = Object.entries(body).sort((a, b) => b[1] - a[1]);
    const top = Math.max(1e-12, ...entries.map(e => Math.abs(e[1])));
    const scale = c.activation === "none" ? top : 1;
    for (const [label, score] of entries) {
      const row = el("div", {"class": "row bar", "data-label": label, "data-score": String(score)});
      const track = el("div", {"class": "track"});
      const fill = el("div", {"class": "fill"});
      fill.style.width = `${Math.max(0, Math.min(100, 100 * Math.abs(score) / scale))}%`;
      track.append(fill);
      row.append(el("span", {"class": "label", "title": label}, label), track, el("span", {"class": "value"}, score.toFixed(4)));
      box.append(row);
    }
    box.dataset.state = "done";
  } catch (err) {
    latency.textContent = "";
    box.append(el("div", {"class": "error"}, String(err.message || err)));
    box.dataset.state = "error";
  }
}

function take(files) { for (const f of files) classify(f); }

async function start() {
  cards = await (await fetch("/models")).json();
  const select = document.getElementById("model");
  for (const c of cards) select.append(el("option", {"value": c.name}, c.name));
  select.addEventListener("change", showCard);
  showCard();
  const drop = document.getElementById("drop"), input = document.getElementById("files");
  drop.addEventListener("click", () => input.click());
  input.addEventListener("change", () => take(input.files));
  drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); take(e.dataTransfer.files); });
  document.body.dataset.ready = "true";
}
start();
</script>
</body>
</html>
)html";

}  // namespace

std::string_view web_page() { return kPage; }

}  // namespace pt2onnx::serve
