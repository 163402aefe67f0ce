// What the demo's end-to-end scripts share (demo_e2e, account_e2e, address_e2e, servicing_e2e; identity_e2e and
// cors_e2e take the constants): headless Chromium launched as this machine's needs it, requests leaving the
// machine aborted and listed, the page's console kept, and one JSON line printed at the end — the walk's outcome,
// or where it failed with a screenshot — then the process exits 0 or 1.
import path from 'node:path';

import { chromium } from 'playwright-core';

export const STEP_TIMEOUT = 15_000;
// what the machine's Chromium needs here (python-svc.md); Playwright adds a fresh --user-data-dir itself
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// run(page, base) walks the page and answers what the Python side checks; it records its progress in `steps`
// and names the step under way through `currentStep()`, so a failure says where it happened.
export async function walk({ config, name, run, steps, currentStep, consoleLines, offline, contextOptions = {} }) {
  const browser = await chromium.launch({ executablePath: config.chromium, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ locale: 'en-US', ...contextOptions });
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, (route) => {
    offline.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
  let exitCode = 0;
  try {
    const outcome = await run(page, config.baseUrl.replace(/\/$/, ''));
    console.log(JSON.stringify({ ok: true, steps, ...outcome, offline, console: consoleLines }));
  } catch (error) {
    const step = currentStep();
    const screenshot = path.join(config.artifacts, `${name}-${step.replaceAll(' ', '-')}.png`);
    await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
    console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error), step, steps, screenshot,
      url: page.url(), offline, console: consoleLines }));
    exitCode = 1;
  } finally {
    await browser.close();
  }
  process.exit(exitCode);
}

// Sign in on the demo's own page (/demo/) as `username` and wait for the subscriptions list: the first step of
// every demo walk that acts as the demo subscriber.
export async function signIn(page, base, username, password) {
  await page.goto(`${base}/demo/`);
  await page.getByLabel('E-mail').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Subscriptions', exact: true }).waitFor();  // not the h1, "My subscriptions"
}
