// Drives pt2onnx serve's web page in headless Chromium (puppeteer-core), as a
// person would: opens the page, reads the model card, drops image files onto
// the drop zone and reads the bars the page drew. Used by test_serve_page.py.
//
//   node serve_page.js URL FILE...
//
// Prints one JSON object on stdout:
//   {"ready": true, "card": {field: text, ...}, "models": [names in the select],
//    "results": {file name: {"state", "scores": {label: score}, "latency", "error"}},
//    "requests": [{url, method, type, status} of every request the page made],
//    "external": [those not on URL's origin],
//    "console_errors": [...], "page_errors": [...]}
// The files are dropped as one drop (a DataTransfer built in the page from the
// files' bytes, dispatched as dragenter, dragover and drop on #drop).
// Exit 0 when it could read the page, 1 on any failure (message on stderr).
// Environment: PT2ONNX_CHROMIUM (default /usr/bin/chromium), PT2ONNX_PAGE_TIMEOUT_MS (default 60000).

"use strict";
const fs = require("fs");
const path = require("path");
const puppeteer = require("puppeteer-core");

const TIMEOUT = Number(process.env.PT2ONNX_PAGE_TIMEOUT_MS || 60000);
const MIME = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".dcm": "application/dicom"};

async function main() {
  const [url, ...files] = process.argv.slice(2);
  if (!url) throw new Error("usage: node serve_page.js URL FILE...");
  const origin = new URL(url).origin;
  const browser = await puppeteer.launch({
    executablePath: process.env.PT2ONNX_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--no-default-browser-check", "--disable-extensions",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    timeout: TIMEOUT,
    protocolTimeout: TIMEOUT * 2,
  });
  // Its process group, so that the test can end it should this script be killed.
  console.error(`serve_page.js: browser pid ${browser.process()?.pid}`);
  // However main ends, the browser goes with it.
  const kill = () => { try { browser.process()?.kill("SIGKILL"); } catch (_) { /* gone */ } };
  process.on("exit", kill);
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const requests = [], consoleErrors = [], pageErrors = [];
    page.on("request", r => requests.push({url: r.url(), method: r.method(), type: r.resourceType(), status: null}));
    page.on("response", r => {
      const q = requests.find(x => x.url === r.url() && x.status === null);
      if (q) q.status = r.status();
    });
    page.on("console", m => {
      if (m.type() === "error") consoleErrors.push({text: m.text(), url: m.location()?.url || ""});
    });
    page.on("pageerror", e => pageErrors.push(String(e.message || e)));

    await page.goto(url, {waitUntil: "load", timeout: TIMEOUT});
    await page.waitForSelector("body[data-ready=true]", {timeout: TIMEOUT});

    const {card, models} = await page.evaluate(() => {
      const card = {};
      for (const td of document.querySelectorAll("#card td[data-field]")) card[td.dataset.field] = td.textContent;
      const models = [...document.querySelectorAll("#model option")].map(o => o.value);
      return {card, models};
    });

    const payload = files.map(f => ({name: path.basename(f), type: MIME[path.extname(f).toLowerCase()] || "",
                                     b64: fs.readFileSync(f).toString("base64")}));
    await page.evaluate(items => {
      const dt = new DataTransfer();
      for (const it of items) {
        const raw = atob(it.b64), bytes = new Uint8Array(raw.length);
        for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
        dt.items.add(new File([bytes], it.name, {type: it.type}));
      }
      const drop = document.getElementById("drop");
      const fire = type => drop.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
      fire("dragenter");
      fire("dragover");
      fire("drop");
    }, payload);

    await page.waitForFunction(n => {
      const boxes = document.querySelectorAll("div.result[data-file]");
      return boxes.length === n && [...boxes].every(b => b.dataset.state === "done" || b.dataset.state === "error");
    }, {timeout: TIMEOUT, polling: 50}, files.length);

    const results = await page.evaluate(() => {
      const out = {};
      for (const box of document.querySelectorAll("div.result[data-file]")) {
        const scores = {};
        for (const bar of box.querySelectorAll(".bar[data-label]")) scores[bar.dataset.label] = Number(bar.dataset.score);
        out[box.dataset.file] = {
          state: box.dataset.state,
          scores,
          order: [...box.querySelectorAll(".bar[data-label]")].map(b => b.dataset.label),
          latency: box.querySelector(".latency")?.textContent || "",
          error: box.querySelector(".error")?.textContent || null,
        };
      }
      return out;
    });

    const external = requests.filter(r => !r.url.startsWith("data:") && new URL(r.url).origin !== origin);
    process.stdout.write(JSON.stringify({ready: true, card, models, results, requests, external,
                                         console_errors: consoleErrors, page_errors: pageErrors}) + "\n");
  } finally {
    await browser.close().catch(() => {});
    kill();
  }
}

// A hard stop, should anything hang past every timeout above.
const guard = setTimeout(() => { console.error("serve_page.js: timed out"); process.exit(1); }, TIMEOUT * 4);
guard.unref();
main().then(() => process.exit(0), err => { console.error(`serve_page.js: ${err.stack || err}`); process.exit(1); });
