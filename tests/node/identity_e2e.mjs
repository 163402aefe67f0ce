// The demo's identity journey end to end, in headless Chromium driven by playwright-core
// (tests/browser/test_demo_identity.py runs it against a papergraph it started): a new Valley Courier (CPRDEMO)
// customer signs up, reads the verification mail on /demo/mail, follows its link and verifies, signs in with
// papergraph's own sign-in, buys a new subscription with a new card in NavigaPay's hosted iframe and invites a
// guest; then the guest, in a browser of their own, reads the invitation mail, follows its link, accepts with a
// new password and sees the subscription on their account page; and a stranger buys without an account.
//
// usage: node identity_e2e.mjs '{"baseUrl", "chromium", "artifacts", "customer": {firstName, lastName, email,
//   password}, "guest": {...}, "offer", "address": {...}, "card": {...}}'
// Prints one JSON line: {"ok": true, "steps": [...], ...} or {"ok": false, "error", "step", "screenshot",
// "console"} (exit 1). Every request leaving the machine is aborted and reported in "offline".
import path from 'node:path';

import { chromium } from 'playwright-core';

const config = JSON.parse(process.argv[2] ?? '{}');
const STEP_TIMEOUT = 15_000;
const MAIL_ATTEMPTS = 60;  // the delivery worker sends after the commit: the mailbox is asked again, a bounded number of times
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const consoleLines = [];
const offline = [];
const steps = [];
const offersSeen = [];
let step = 'launch';
let current = null;  // the page of the step in progress, for the screenshot

// /demo/mail/?to=…: ask again until a message whose subject has `subject` is listed, open it, answer its links
async function openMail(page, base, to, subject) {
  step = `mail to ${to}`;
  await page.goto(`${base}/demo/mail/?to=${encodeURIComponent(to)}`);
  const message = page.getByRole('button', { name: subject });
  for (let attempt = 0; !(await message.count()); attempt += 1) {
    if (attempt >= MAIL_ATTEMPTS) throw new Error(`no message "${subject}" for ${to}`);
    await page.waitForTimeout(250);
    await page.getByRole('button', { name: 'Show', exact: true }).click();
  }
  await message.first().click();
  await page.locator('#message:not([hidden])').waitFor();
  return { subject: await page.locator('#subject').innerText(), text: await page.locator('#text').innerText(),
    links: await page.locator('#links a').evaluateAll((links) => links.map((a) => a.href)) };
}

// the purchase form of demo/purchase.js: the offer, the fields by label, the card in NavigaPay's frame, then an
// impatient double click on the confirmation (one purchase all the same)
async function buyNew(page, section, fields, card) {
  await section.getByRole('button', { name: 'Continue to card entry' }).waitFor();
  const offers = await section.getByLabel('Offer').locator('option').allInnerTexts();
  const offerLabel = offers.find((text) => text.startsWith(config.offer));
  if (!offerLabel) throw new Error(`no offer "${config.offer}" among ${JSON.stringify(offers)}`);
  await section.getByLabel('Offer').selectOption({ label: offerLabel });
  for (const [label, value] of Object.entries(fields)) await section.getByLabel(label, { exact: true }).fill(value);
  await section.getByRole('button', { name: 'Continue to card entry' }).click();
  const frame = page.frameLocator('iframe[title="Card for the new subscription"]');
  await frame.getByLabel('Card number').fill(card.number);
  await frame.getByLabel('Expiry (MM/YY)').fill(card.expiry);
  await frame.getByLabel('Security code').fill(card.cvv);
  await frame.getByLabel('Name on card').fill(card.name);
  await frame.getByRole('button', { name: 'Save' }).click();
  const confirm = section.getByRole('button', { name: /^Buy .* now$/ });
  await confirm.and(page.locator(':enabled')).waitFor();
  await confirm.dblclick();
  offersSeen.push(offerLabel);
}

async function run(context, base) {
  const { customer, guest, stranger, card, address } = config;
  const page = await context.newPage();
  current = page;

  step = 'sign up';
  await page.goto(`${base}/demo/`);
  await page.getByRole('link', { name: 'its account page' }).click();
  const signUp = page.getByRole('form', { name: 'Create an account' });
  await signUp.getByLabel('First name').fill(customer.firstName);
  await signUp.getByLabel('Last name').fill(customer.lastName);
  await signUp.getByLabel('E-mail').fill(customer.email);
  await signUp.getByLabel('Password').fill(customer.password);
  await signUp.getByRole('button', { name: 'Create the account' }).click();
  await page.getByText('We sent a link to').waitFor();
  const mailboxLink = await page.getByRole('link', { name: 'demo mailbox' }).getAttribute('href');
  steps.push(step);

  const verification = await openMail(page, base, customer.email, 'Verify your e-mail');
  steps.push('verification mail');

  step = 'verify';
  const verifyLink = verification.links.find((href) => href.includes('/verify-email'));
  if (!verifyLink) throw new Error(`no verification link in: ${verification.text}`);
  await page.locator(`#links a[href="${verifyLink}"]`).first().click();
  await page.getByRole('button', { name: 'Verify my e-mail address' }).click();
  await page.getByText('Your address is verified').waitFor();
  const verifiedAt = page.url();
  await page.getByRole('link', { name: 'Sign in' }).click();
  steps.push(step);

  step = 'code typed in again';  // the message's code, typed into the page without a link: used already
  const signInPage = page.url();
  await page.goto(`${base}/demo/verify-email/`);
  const codeForm = page.getByRole('form', { name: 'Enter the code' });
  await codeForm.getByLabel('E-mail').fill(customer.email);
  await codeForm.getByLabel('Code from the message').fill(new URL(verifyLink).searchParams.get('code'));
  await page.getByRole('button', { name: 'Verify my e-mail address' }).click();
  const codeAgain = await page.getByRole('alert').filter({ hasText: /\S/ }).innerText();
  await page.goto(signInPage);
  steps.push(step);

  step = 'sign in';
  const signIn = page.getByRole('form', { name: 'Sign in' });
  await signIn.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();  // the page's script ran
  const prefilled = await signIn.getByLabel('E-mail').inputValue();
  await signIn.getByLabel('Password').fill(customer.password);
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Subscriptions', exact: true }).waitFor();
  const who = await page.locator('#who').innerText();
  steps.push(step);

  step = 'buy';
  const buySection = page.getByRole('region', { name: 'Buy a new subscription' });
  await buySection.waitFor();
  await buyNew(page, buySection, address, card);
  const bought = await buySection.getByText('Subscribed:').innerText();
  const subscriptionId = bought.match(/Subscribed: (\S+) /)[1];
  const ownerCard = await page.getByRole('article', { name: subscriptionId }).innerText();
  steps.push(step);

  step = 'invite';
  const inviteForm = page.getByRole('form', { name: 'Invite a guest' });
  await inviteForm.getByLabel('Subscription you own').selectOption(subscriptionId);
  await inviteForm.getByLabel("Guest's e-mail").fill(guest.email);
  await inviteForm.getByLabel("Guest's first name").fill(guest.firstName);
  await inviteForm.getByLabel("Guest's last name").fill(guest.lastName);
  await inviteForm.getByRole('button', { name: 'Send the invitation' }).click();
  const invited = await page.getByText('Invitation sent to').innerText();
  const pending = await page.locator('#pending').filter({ hasText: guest.email }).innerText();
  await page.screenshot({ path: path.join(config.artifacts, 'identity-owner.png'), fullPage: true });  // for a look
  steps.push(step);

  step = 'sign out';  // ends the session at papergraph too (SSN-4), and the journey's sections go
  const ownerToken = await page.evaluate(() => sessionStorage.getItem('papergraph-demo-token'));
  const signOutAnswer = page.waitForResponse((response) => (response.request().postData() ?? '').includes('signOut'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  const signOutStatus = (await signOutAnswer).status();
  await page.locator('#buy, #invite').first().waitFor({ state: 'detached' });
  steps.push(step);

  // the guest, in a browser of their own (no session of the owner's)
  const guestContext = await context.browser().newContext({ locale: 'en-US' });
  await guestContext.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, blockOutside);
  const guestPage = await guestContext.newPage();
  guestPage.setDefaultTimeout(STEP_TIMEOUT);
  watch(guestPage, 'guest');
  current = guestPage;
  const invitation = await openMail(guestPage, base, guest.email, 'invites you');
  steps.push('invitation mail');

  step = 'guest accepts';
  const acceptLink = invitation.links.find((href) => href.includes('/invitation'));
  if (!acceptLink) throw new Error(`no invitation link in: ${invitation.text}`);
  await guestPage.locator(`#links a[href="${acceptLink}"]`).first().click();
  const invitationTitle = await guestPage.getByRole('heading', { name: 'invites you to Valley Courier' }).innerText();
  const accept = guestPage.getByRole('form', { name: 'Accept with a new account' });
  await accept.getByLabel('Password').fill(guest.password);
  await accept.getByRole('button', { name: 'Accept the invitation' }).click();
  await guestPage.getByRole('heading', { name: 'Subscriptions', exact: true }).waitFor();
  const guestCard = await guestPage.getByRole('article', { name: subscriptionId }).innerText();
  const guestWho = await guestPage.locator('#who').innerText();
  await guestPage.screenshot({ path: path.join(config.artifacts, 'identity-guest.png'), fullPage: true });
  steps.push(step);

  // a stranger, in a browser of their own, buys without an account (BUY-11); the subscription waits (BUY-10)
  step = 'stranger buys';
  const strangerContext = await context.browser().newContext({ locale: 'en-US' });
  await strangerContext.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, blockOutside);
  const strangerPage = await strangerContext.newPage();
  strangerPage.setDefaultTimeout(STEP_TIMEOUT);
  watch(strangerPage, 'stranger');
  current = strangerPage;
  await strangerPage.goto(`${base}/demo/`);
  await strangerPage.getByRole('link', { name: 'subscribe without an account' }).click();
  const strangerBuy = strangerPage.getByRole('region', { name: 'Buy a new subscription' });
  await buyNew(strangerPage, strangerBuy, { 'First name': stranger.firstName, 'Last name': stranger.lastName,
    'E-mail': stranger.email, ...address }, { ...card, name: `${stranger.firstName} ${stranger.lastName}` });
  const strangerBought = await strangerPage.getByRole('status').filter({ hasText: 'Thank you' }).innerText();
  steps.push(step);
  const claim = await openMail(strangerPage, base, stranger.email, 'bought with your e-mail');
  steps.push('claim mail');

  step = 'link used again';
  current = guestPage;
  await guestPage.goto(acceptLink);
  const usedLink = await guestPage.locator('#invitation-text, #problem').filter({ hasText: /\S/ }).first().innerText();
  steps.push(step);

  return { mailboxLink, verification, verifiedAt, codeAgain, prefilled, who, offersSeen, bought, subscriptionId, ownerCard,
    invited, pending, ownerToken, signOutStatus, invitation, invitationTitle, guestCard, guestWho, strangerBought, claim, usedLink };
}

function blockOutside(route) {
  offline.push(route.request().url());
  return route.abort();
}

function watch(page, who) {
  page.on('console', (message) => consoleLines.push(`${who} ${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => consoleLines.push(`pageerror (${who}): ${error.message}`));
}

const browser = await chromium.launch({ executablePath: config.chromium, headless: true, args: CHROMIUM_ARGS });
const context = await browser.newContext({ locale: 'en-US' });
await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, blockOutside);
context.setDefaultTimeout(STEP_TIMEOUT);
context.on('page', (page) => watch(page, 'customer'));
let exitCode = 0;
try {
  const outcome = await run(context, config.baseUrl.replace(/\/$/, ''));
  console.log(JSON.stringify({ ok: true, steps, ...outcome, offline, console: consoleLines }));
} catch (error) {
  const screenshot = path.join(config.artifacts, `identity-${step.replaceAll(/[^a-z0-9]+/gi, '-')}.png`);
  await current?.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  console.log(JSON.stringify({ ok: false, error: String(error?.message ?? error), step, steps, screenshot,
    url: current?.url(), offline, console: consoleLines }));
  exitCode = 1;
} finally {
  await browser.close();
}
process.exit(exitCode);
