// The demo's servicing part end to end (demo/servicing.js), in headless Chromium driven by playwright-core
// (tests/browser/test_demo_servicing.py runs it against a papergraph it started): sign in as the demo subscriber,
// open a print subscription's stops and complaints, schedule a vacation stop and cancel it, then report a missed
// delivery made good with e-edition access.
//
// usage: node servicing_e2e.mjs '{"baseUrl", "chromium", "username", "password", "subscription", "artifacts"}'
// Prints one JSON line: {"ok": true, "steps": [...], "scheduled", "cancelled", "complained", "stops", "history",
// "console": [...]} or, on failure, {"ok": false, "error", "step", "screenshot", "console": [...]} (exit 1).
// Requests leaving the machine are aborted and reported.

import { signIn, walk } from './walk.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');

const consoleLines = [];
const offline = [];
const steps = [];
let step = 'launch';

async function run(page, base) {
  const id = config.subscription;

  step = 'sign in';
  await signIn(page, base, config.username, config.password);
  steps.push(step);

  step = 'open servicing';
  const article = page.getByRole('article', { name: id });
  await article.getByRole('button', { name: 'Stops and complaints' }).click();
  const panel = page.getByRole('region', { name: `Servicing ${id}` });
  const stops = panel.getByRole('list', { name: `Vacation stops of ${id}` });
  await stops.getByText('No vacation stop scheduled.').waitFor();
  steps.push(step);

  step = 'schedule stop';
  const form = panel.getByRole('form', { name: `Schedule a vacation stop for ${id}` });
  const start = await form.getByLabel('Stop from').inputValue();
  const restart = await form.getByLabel('Restart on').inputValue();
  await form.getByRole('button', { name: 'Schedule stop' }).click();
  const scheduledStatus = page.getByRole('status').filter({ hasText: `Vacation stop scheduled from ${start}` });
  await scheduledStatus.waitFor();
  await stops.getByText(`From ${start} until ${restart} (VACATION)`).waitFor();
  const scheduled = { start, restart, status: await scheduledStatus.innerText() };
  steps.push(step);

  step = 'cancel stop';
  await stops.getByRole('button', { name: 'Cancel stop' }).click();
  const cancelledStatus = page.getByRole('status').filter({ hasText: `Vacation stop from ${start} cancelled` });
  await cancelledStatus.waitFor();
  await stops.getByText('No vacation stop scheduled.').waitFor();
  const cancelled = await cancelledStatus.innerText();
  steps.push(step);

  step = 'complain';
  const complaint = panel.getByRole('form', { name: `Report a delivery problem for ${id}` });
  await complaint.getByLabel('Problem').selectOption('MISSED');
  await complaint.getByLabel('Make it good with').selectOption('EEDITION_ACCESS');
  const deliveryDate = await complaint.getByLabel('Delivery date').inputValue();
  await complaint.getByRole('button', { name: 'Report problem' }).click();
  const complainedStatus = page.getByRole('status').filter({ hasText: 'Problem recorded: e-edition access until' });
  await complainedStatus.waitFor();
  const history = panel.getByRole('list', { name: `Delivery problems of ${id}` });
  await history.getByText(`MISSED on ${deliveryDate}`).waitFor();
  steps.push(step);

  return { scheduled, cancelled, deliveryDate, complained: await complainedStatus.innerText(),
    stops: await stops.innerText(), history: await history.innerText() };
}

await walk({ config, name: 'servicing', run, steps, currentStep: () => step, consoleLines, offline });
