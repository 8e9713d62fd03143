// Drives Debian's chromium (headless) with playwright-core through one scenario of the users'
// page or the report, and prints one JSON line with what the page showed. Usage:
//   node run.mjs '{"kind":"verify","url":...,"proof":FILE,"account":ID,"screenshot":PNG,"timeoutMs":N}'
//   node run.mjs '{"kind":"report","url":...,"screenshot":PNG}'
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const sc = JSON.parse(process.argv[2]);
const profile = mkdtempSync(join(tmpdir(), "solvency-chromium-"));
// A fresh profile directory each run (playwright passes it to chromium as --user-data-dir).
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1100, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const out = { console: [], requests: [] };
try {
  const page = await browser.newPage();
  page.on("console", (m) => { if (m.type() === "error") out.console.push(m.text()); });
  page.on("pageerror", (e) => out.console.push(String(e)));
  page.on("request", (r) => out.requests.push({ url: r.url(), method: r.method(), body: r.postData() || "" }));
  page.on("worker", (w) => w.on("console", (m) => { if (m.type() === "error") out.console.push(m.text()); }));
  const t0 = Date.now();
  await page.goto(sc.url, { waitUntil: "load" });
  if (sc.kind === "verify") {
    await page.waitForFunction(() => document.getElementById("pins-source").textContent !== "", null, { timeout: 10000 });
    await page.setInputFiles("#proof", sc.proof);
    await page.fill("#account", sc.account);
    await page.click("#check");
    await page.waitForSelector("#verdict[data-verdict]:not([data-verdict=''])", { timeout: sc.timeoutMs || 120000 });
    out.verdict = await page.getAttribute("#verdict", "data-verdict");
    out.ms = Number(await page.getAttribute("#verdict", "data-ms"));
    out.title = await page.textContent("#verdict-title");
    out.reason = await page.textContent("#verdict-reason");
    out.facts = await page.textContent("#facts");
    const cs = await page.$("#countersign");
    out.countersign = cs ? await cs.textContent() : "";
    out.sawProgress = await page.evaluate(() => window.__sawProgress === true);
  } else {
    await page.waitForFunction(() => window.__reportReady === true, null, { timeout: 30000 });
    out.charts = await page.evaluate(() => window.__reportCharts);
  }
  out.totalMs = Date.now() - t0;
  if (sc.screenshot) await page.screenshot({ path: sc.screenshot, fullPage: true });
} catch (e) {
  out.error = String(e && e.message || e);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
