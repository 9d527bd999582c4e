// Opens a report page in headless Chromium and fails unless it renders cleanly: no console
// error or warning, no page error, no request leaving the file (the page is self-contained),
// every section present, and the Non-compliant table listing exactly the expected tables.
//
//   node check-report.mjs PAGE.html EXPECTED.json SCREENSHOT.png
//
// EXPECTED.json is `evaluate --format json` for the same snapshot: the truth the page must show.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [page_path, expected_path, shot] = process.argv.slice(2);
const expected = JSON.parse(readFileSync(expected_path, "utf8"));
const problems = [];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // Without the background-networking flags Chromium tries to reach Google at start, which
  // this closed network refuses; none of them changes how a page renders.
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
  const url = pathToFileURL(page_path).href;
  page.on("request", (r) => {
    if (r.url() !== url) problems.push(`request leaves the page: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: "load" });

  const h2 = await page.locator("h2").allTextContents();
  for (const want of ["Coverage by Region", "Tables covered, by plan", "Coverage by team tag",
                      "Top causes", "Non-compliant tables"]) {
    if (!h2.includes(want)) problems.push(`missing section "${want}" (have: ${h2.join(", ")})`);
  }
  // The last table lists the NON_COMPLIANT tables: Table, Region, Reason, Verified fix, Command.
  const cols = ["Table", "Region", "Reason", "Verified fix", "Command"];
  const head = await page.locator("table").last().locator("thead th").allTextContents();
  if (JSON.stringify(head) !== JSON.stringify(cols)) {
    problems.push(`non-compliant columns differ: want ${cols.join(", ")}; have ${head.join(", ")}`);
  }
  const rows = await page.locator("table").last().locator("tbody tr").evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
  const want = expected.Evaluations.filter((e) => e.ComplianceType === "NON_COMPLIANT")
    .map((e) => `${e.ComplianceResourceId} ${e.Region}`).sort();
  const have = rows.map((r) => `${r[0]} ${r[1]}`).sort();
  if (JSON.stringify(want) !== JSON.stringify(have)) {
    problems.push(`non-compliant rows differ: want ${want.join("; ")}; have ${have.join("; ")}`);
  }
  for (const r of rows) {
    // Every row has a reason, a fix and the command that makes it (an `aws` call, shell-quoted).
    if (r.length !== cols.length || !r[2] || !r[3] || !/^aws [a-z]/.test(r[4] ?? "")) {
      problems.push(`incomplete row: ${JSON.stringify(r)}`);
    }
  }
  // Rendered, not just parsed: the body has a real size on screen.
  const box = await page.locator("body").boundingBox();
  if (!box || box.width < 600 || box.height < 400) problems.push(`body renders at ${JSON.stringify(box)}`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`rendered ${page_path}: ${h2.length} sections, ${rows.length} non-compliant rows, ` +
              `body ${Math.round(box?.width)}x${Math.round(box?.height)} px, screenshot ${shot}`);
} finally {
  await browser.close();
}
if (problems.length) {
  for (const p of problems) console.log(`problem: ${p}`);
  process.exit(1);
}
