// The demo's billing and auto-pay panel end to end, in headless Chromium driven by playwright-core
// (tests/browser/test_demo_account.py runs it against a papergraph it started): sign in as the demo subscriber, open
// the panel of a subscription that may use eBill, sign it up (EBL-1), download its newest statement's PDF (EBL-4),
// then open the panel of a subscription on auto-pay, read its plan (EZ-4) and cancel auto-pay (EZ-5).
//
// usage: node account_e2e.mjs '{"baseUrl", "chromium", "username", "password", "ebill", "autoPay", "artifacts"}'
// Prints one JSON line: {"ok": true, "steps": [...], "ebill": {...}, "download": {...}, "plan": "...",
// "cancelled": {...}, "console": [...]} or, on failure, {"ok": false, "error", "step", "screenshot", "console"}
// (exit 1). Every request leaving the machine is aborted and reported.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { signIn, walk } from './walk.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');

const consoleLines = [];
const offline = [];
const steps = [];
let step = 'launch';

async function run(page, base) {
  step = 'sign in';
  await signIn(page, base, config.username, config.password);
  steps.push(step);

  const panel = (id) => page.locator(`details[data-account="${id}"]`);
  async function open(id) {
    await panel(id).locator('summary').click();
    await panel(id).locator('section.plan dl').waitFor();
  }

  step = 'ebill sign-up';
  await open(config.ebill);
  const before = await panel(config.ebill).locator('.ebill-state').innerText();
  await panel(config.ebill).getByRole('button', { name: 'Sign up for eBill' }).dblclick();  // one sign-up all the same
  await page.getByRole('status').filter({ hasText: 'eBill is on' }).waitFor();
  await panel(config.ebill).getByRole('button', { name: 'Stop eBill' }).waitFor();
  const after = await panel(config.ebill).locator('.ebill-state').innerText();
  steps.push(step);

  step = 'statement download';
  const statement = panel(config.ebill).locator('section.statements li').first();
  const statementText = await statement.innerText();
  const [response, download] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/statements/')),
    page.waitForEvent('download'),
    statement.getByRole('button', { name: 'Download PDF' }).click(),
  ]);
  const saved = path.join(config.artifacts, download.suggestedFilename());
  await download.saveAs(saved);
  const bytes = readFileSync(saved);  // what the browser saved, through the blob the page made
  steps.push(step);

  step = 'auto-pay plan';
  await open(config.autoPay);
  const plan = await panel(config.autoPay).locator('section.plan').innerText();
  steps.push(step);

  step = 'cancel auto-pay';
  await panel(config.autoPay).getByRole('button', { name: 'Cancel auto-pay' }).click();
  await page.getByRole('status').filter({ hasText: 'Auto-pay is cancelled' }).waitFor();
  await panel(config.autoPay).getByRole('heading', { name: 'Current plan' }).waitFor();
  const planAfter = await panel(config.autoPay).locator('section.plan').innerText();
  const cancelButtons = await panel(config.autoPay).getByRole('button', { name: 'Cancel auto-pay' }).count();
  steps.push(step);

  return {
    ebill: { before, after },
    download: { status: response.status(), contentType: response.headers()['content-type'],
      head: bytes.subarray(0, 8).toString('latin1'), size: bytes.length, filename: download.suggestedFilename(),
      saved, statement: statementText },
    plan, cancelled: { plan: planAfter, cancelButtons },
  };
}

await walk({ config, name: 'account', run, steps, currentStep: () => step, consoleLines, offline,
  contextOptions: { acceptDownloads: true } });
