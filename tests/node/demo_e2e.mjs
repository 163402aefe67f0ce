// The browser demo end to end, in headless Chromium driven by playwright-core (tests/browser/test_demo.py runs it
// against a papergraph it started): sign in as the demo subscriber, read the dashboard, pay an active subscription
// and restart a stopped one, each through NavigaPay's hosted iframe, then check GraphiQL in the same browser.
//
// usage: node demo_e2e.mjs '{"baseUrl", "chromium", "username", "password", "pay", "restart", "card", "artifacts"}'
// Prints one JSON line: {"ok": true, "steps": [...], "paid": {...}, "restarted": {...}, "graphiql": "...",
// "console": [...]} or, on failure, {"ok": false, "error", "step", "screenshot", "console": [...]} (exit 1).
//
// The network is blocked: every request leaving the machine is aborted and reported. GraphiQL's page loads React and
// GraphiQL from papergraph itself (server/graphiql.py), each checked against the page's integrity attribute; with
// those assets blocked too, the page must say so instead of hanging on "Loading..." (the "graphiql offline" step).

import { signIn, walk } from './walk.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');

const consoleLines = [];
const offline = [];
const steps = [];
let step = 'launch';

async function run(page, base) {
  const card = config.card;

  step = 'sign in';
  await signIn(page, base, config.username, config.password);
  steps.push(step);

  step = 'dashboard';
  const article = (id) => page.getByRole('article', { name: id });
  await article(config.pay).waitFor();
  const dashboard = {};
  for (const id of [config.pay, config.restart]) dashboard[id] = await article(id).innerText();
  steps.push(step);

  async function checkout(id, action, confirmPrefix, done) {
    await article(id).getByRole('button', { name: action, exact: true }).click();
    const checkoutSection = page.getByRole('region', { name: `${action} ${id}` });
    await checkoutSection.waitFor();
    await page.getByRole('button', { name: 'Enter card details' }).click();
    const frame = page.frameLocator('iframe[title="Secure card entry"]');
    await frame.getByLabel('Card number').fill(card.number);
    await frame.getByLabel('Expiry (MM/YY)').fill(card.expiry);
    await frame.getByLabel('Security code').fill(card.cvv);
    await frame.getByLabel('Name on card').fill(card.name);
    await frame.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`Paying with VISA •••• ${card.number.slice(-4)}`).waitFor();
    const confirm = page.getByRole('button', { name: new RegExp(`^${confirmPrefix} `) });
    await confirm.and(page.locator(':enabled')).waitFor();
    const label = await confirm.innerText();
    const quote = await page.getByRole('table', { name: 'What you pay' }).innerText();
    await confirm.dblclick();  // an impatient double click: one attempt all the same
    const status = page.getByRole('status').filter({ hasText: done });
    await status.waitFor();
    return { label, quote, status: await status.innerText() };
  }

  step = 'pay';
  const paid = await checkout(config.pay, 'Pay', 'Pay', 'Payment applied');
  steps.push(step);

  step = 'restart';
  const restarted = await checkout(config.restart, 'Restart', 'Restart and pay', 'Subscription restarted');
  const restartedCard = await article(config.restart).innerText();
  steps.push(step);

  step = 'graphiql';
  await page.goto(`${base}/graphql`);
  await page.locator('.graphiql-container .graphiql-query-editor .CodeMirror').waitFor();
  const token = await page.evaluate(() => sessionStorage.getItem('papergraph-demo-token'));
  await page.getByRole('button', { name: 'Headers' }).click();
  await typeInto(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror',
    JSON.stringify({ Authorization: `Bearer ${token}` }));
  await typeInto(page, '.graphiql-query-editor .CodeMirror', config.graphiqlQuery);
  await page.getByRole('button', { name: /Execute query/ }).click();
  const result = page.locator('.result-window');
  await result.filter({ hasText: config.username }).waitFor();
  const graphiql = await result.innerText();
  steps.push(step);

  step = 'graphiql offline';
  const blocked = await page.context().newPage();
  await blocked.route(/\/graphiql\//, (route) => route.abort());
  await blocked.goto(`${base}/graphql`);
  const graphiqlFallback = await blocked.getByRole('alert').filter({ hasText: 'GraphiQL could not load' }).innerText();
  await blocked.close();
  steps.push(step);

  return { dashboard, paid, restarted, restartedCard, graphiql, graphiqlFallback };
}

// GraphiQL's editors are CodeMirror 5: click into one, then set its text through the editor's own API (typing
// key by key would meet its auto-closed brackets), which fires the same change events as typing
async function typeInto(page, selector, text) {
  const editor = page.locator(selector).first();
  await editor.click();
  await editor.evaluate((node, value) => node.CodeMirror.setValue(value), text);
}

await walk({ config, name: 'demo', run, steps, currentStep: () => step, consoleLines, offline });
