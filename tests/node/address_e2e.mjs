// The demo's address change end to end, in headless Chromium driven by playwright-core (tests/browser/
// test_demo_address.py runs it against a papergraph it started): sign in as the demo subscriber, read the delivery
// address of an owned subscription, try a postal code the paper's PostalCodeMask refuses (the user error is shown,
// nothing moves), then move with a valid one and see the card show the new address and the applied move.
//
// usage: node address_e2e.mjs '{"baseUrl", "chromium", "username", "password", "subscription", "address", "badPostalCode", "artifacts"}'
// Prints one JSON line: {"ok": true, "steps", "before", "refusal", "status", "after", "console"} or, on failure,
// {"ok": false, "error", "step", "screenshot", "console"} (exit 1). Requests leaving the machine are aborted.

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

  step = 'read address';
  const region = page.getByRole('region', { name: `Delivery address ${config.subscription}` });
  const current = region.locator('.current-address');
  await current.filter({ hasNotText: 'Loading' }).waitFor();
  const before = await current.innerText();
  steps.push(step);

  async function fillAndMove(address) {
    for (const [label, value] of [['House number', address.houseNumber], ['Street', address.streetName],
      ['City', address.city], ['Postal code', address.postalCode], ['Country', address.country]]) {
      await region.getByLabel(label).fill(value);
    }
    await region.getByRole('button', { name: 'Move', exact: true }).click();
  }

  step = 'refused postal code';
  await region.getByRole('button', { name: 'Change address' }).click();
  await fillAndMove({ ...config.address, postalCode: config.badPostalCode });
  const alert = page.getByRole('alert').filter({ hasText: 'INVALID_POSTAL_CODE' });
  await alert.waitFor();
  const refusal = await alert.innerText();
  steps.push(step);

  step = 'move';
  await fillAndMove(config.address);
  const status = page.getByRole('status').filter({ hasText: 'Address changed to' });
  await status.waitFor();
  await region.locator('.moves li').filter({ hasText: 'Moved on' }).waitFor();
  await current.filter({ hasText: config.address.streetName }).waitFor();
  const after = await region.innerText();
  steps.push(step);

  return { before, refusal, status: await status.innerText(), after };
}

await walk({ config, name: 'address', run, steps, currentStep: () => step, consoleLines, offline });
