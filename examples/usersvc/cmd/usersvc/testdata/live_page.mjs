// Opens the service's live page in a headless Chromium, creates a user
// through the API once the page is watching, and prints how long the user
// took to appear in the page's table, in milliseconds.
//
//   NODE_MODULES=<dir with playwright-core> node live_page.mjs <base URL> <chromium path>
import { createRequire } from "node:module";

const { chromium } = createRequire(process.env.NODE_MODULES + "/")("playwright-core");

const [base, executablePath] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(base + "/");
  await page.waitForFunction(() => document.getElementById("status").textContent === "watching", null, { timeout: 10000 });
  const email = `live-${Date.now()}@example.com`;
  const start = Date.now();
  const res = await fetch(base + "/users", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Live", email }),
  });
  if (res.status !== 200) throw new Error("create: " + res.status + " " + (await res.text()));
  const user = await res.json();
  await page.waitForSelector(`tr[data-id="${user.id}"]`, { timeout: 5000 });
  const elapsed = Date.now() - start;
  const cells = await page.$$eval(`tr[data-id="${user.id}"] td`, (tds) => tds.map((td) => td.textContent));
  if (cells.join(",") !== `created,${user.id},Live,${email}`) throw new Error("row: " + cells.join(","));
  if (errors.length) throw new Error("page errors: " + errors.join("; "));
  console.log(JSON.stringify({ elapsed }));
} finally {
  await browser.close();
}
