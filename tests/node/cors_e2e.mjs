// CORS in a real browser (tests/browser/test_cors.py): headless Chromium opens each page given (each served from an
// origin of its own on loopback); the page POSTs `{ __typename }` to papergraph with a JSON body (so the browser
// sends a preflight first) and writes what happened into #outcome. Every request leaving the machine is aborted.
//
// usage: node cors_e2e.mjs '{"chromium", "pages": {"name": "url", ...}}'
// Prints one JSON line: {"ok": true, "outcomes": {"name": "answered {...}" | "refused ..."}, "console": [...]}.
import { chromium } from 'playwright-core';

const config = JSON.parse(process.argv[2] ?? '{}');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const consoleLines = [];
const browser = await chromium.launch({ executablePath: config.chromium, headless: true, args: CHROMIUM_ARGS });
let exitCode = 0;
try {
  const context = await browser.newContext();
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, (route) => route.abort());
  const outcomes = {};
  for (const [name, url] of Object.entries(config.pages)) {
    const page = await context.newPage();
    page.on('console', (message) => consoleLines.push(`${name}: ${message.type()}: ${message.text()}`));
    await page.goto(url);
    const outcome = page.locator('#outcome[data-done]');
    await outcome.waitFor({ timeout: 15_000 });
    outcomes[name] = await outcome.innerText();
    await page.close();
  }
  console.log(JSON.stringify({ ok: true, outcomes, console: consoleLines }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error), console: consoleLines }));
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
