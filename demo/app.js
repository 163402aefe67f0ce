// papergraph's browser demo: a subscriber's account page in plain JavaScript (no build, no framework), written
// to be copied. Each part stands alone:
//
//   graphql()            a GraphQL client: POST application/json with the Bearer token; GraphQL errors thrown,
//                        partial answers shown, a 401 signs out
//   signIn(), verifyMfa() the Auth0 password grant of the single-page client, with the MFA step when asked
//   showDashboard()      me → linkedSubscriptions: household level, balance, billing options, payment method
//   openCheckout()       pay or restart: paymentQuote → the NavigaPay hosted iframe (startPaymentSession, the
//                        frame's postMessage, completePaymentSession) → makePayment / restartSubscription
//
// Rules it keeps, as any front end of papergraph must:
// - money comes from the server: every amount shown is a decimal string papergraph sent (paymentQuote), and the
//   quote's `total` is sent back as it is; nothing is added, rounded or converted here (PAY-1);
// - the card is typed into NavigaPay's page only, inside the iframe; this page never sees the number (GW-1, PM-4);
// - a money-moving mutation carries an idempotency key made once per quote and sent again on a retry, so a retry
//   after a lost answer cannot charge twice (PAY-4);
// - text from the API goes into the page as text (textContent), never as HTML.

import { servicingSection } from './servicing.js';
import { accountPanel } from './account.js';  // billing and auto-pay on an owner's card (EBL, EZ-4, EZ-5)
import { addressSection } from './address.js';  // the delivery address and its moves (ADR-1, ADR-3)

const config = await (await fetch('config.json')).json();
const TOKEN_KEY = 'papergraph-demo-token';
const $ = (selector) => document.querySelector(selector);

// -- the GraphQL client ---------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(message, errors = []) {
    super(message);
    this.errors = errors;
  }
}

async function graphql(query, variables = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  let response;
  try {
    response = await fetch(config.graphqlUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError(`The API could not be reached (${error.message})`);
  }
  if (response.status === 401) {
    signOut('Your session has ended: sign in again.');
    throw new ApiError('Not signed in');
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The API answered HTTP ${response.status} without a GraphQL response`);
  }
  if (body.errors?.length) {
    if (!body.data) {  // nothing ran: a bad request, or a refusal of the whole operation
      throw new ApiError(body.errors.map((e) => e.message).join('; '), body.errors);
    }
    // a partial answer: the fields that failed are null (e.g. an upstream is down), the rest is good
    console.warn('partial answer', body.errors);
    showProblem(body.errors.map((e) => `${e.message} (${e.extensions?.code ?? 'ERROR'})`));
  }
  return body.data;
}

// a mutation's payload: { <object>, userErrors: [{ code, field, message }] }
async function mutate(document, input, field) {
  const data = await graphql(document, { input });
  if (!data?.[field]) throw new ApiError(`${field} answered nothing`);
  return data[field];
}

// -- signing in (Auth0's password grant, for the emulator; a production SPA uses Auth0's SPA SDK) ------------
async function tokenRequest(grant) {
  const response = await fetch(`${config.auth0.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: config.auth0.clientId, ...grant }),
  });
  return { status: response.status, answer: await response.json().catch(() => ({})) };
}

async function signIn(username, password) {
  const { status, answer } = await tokenRequest({
    grant_type: 'password', username, password, audience: config.auth0.audience, scope: 'openid profile email',
  });
  if (status === 403 && answer.error === 'mfa_required') return { mfaToken: answer.mfa_token };
  if (status !== 200) throw new ApiError(answer.error_description || answer.error || `Sign-in failed (HTTP ${status})`);
  return { accessToken: answer.access_token };
}

async function verifyMfa(mfaToken, otp) {
  const { status, answer } = await tokenRequest({
    grant_type: 'http://auth0.com/oauth/grant-type/mfa-otp', mfa_token: mfaToken, otp,
  });
  if (status !== 200) throw new ApiError(answer.error_description || answer.error || `Verification failed (HTTP ${status})`);
  return answer.access_token;
}

// -- messages -------------------------------------------------------------------------------------------
function showStatus(text) {
  $('#status').textContent = text;
}

function showProblem(messages) {
  const box = $('#problem');
  box.replaceChildren();
  const list = [].concat(messages).filter(Boolean);
  if (!list.length) return;
  const ul = document.createElement('ul');
  for (const message of list) ul.append(element('li', message));
  box.append(ul);
}

function userErrorMessages(userErrors) {
  return userErrors.map((e) => `${e.message} (${e.code})`);
}

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

// amounts are shown, never computed: Intl formats the server's decimal string exactly as it is
function money({ amount, currency }) {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
}

const isZero = (amount) => /^-?0+(\.0+)?$/.test(amount);

function describeMethod(method) {
  if (!method) return 'none';
  if (method.type === 'BANK') return `${method.bankName} ${method.bankAccountMasked}`;
  return `${method.cardBrand} •••• ${method.cardLast4} (expires ${method.cardExpiry})`;
}

// -- the dashboard --------------------------------------------------------------------------------------
const DASHBOARD = `
query Dashboard {
  me {
    email firstName lastName
    links { role subscriptionId }
    linkedSubscriptions {
      id accountNumber status kind deliverySchedule endDate autoPay
      balance { amount currency }
      householdLevel { label }
      offer { name }
      paymentMethod { type cardBrand cardLast4 cardExpiry bankName bankAccountMasked }
      billingOptions { term length lengthUnit amount { amount currency } }
      restartAvailability { available reasons { code message } }
    }
  }
}`;

let subscriptions = new Map();

async function showDashboard() {
  const data = await graphql(DASHBOARD);
  const me = data.me;
  if (!me) {
    showProblem('This account has no subscriber registration: sign in as a subscriber.');
    return;
  }
  const roles = new Map(me.links.map((link) => [link.subscriptionId, link.role]));
  subscriptions = new Map((me.linkedSubscriptions ?? []).map((s) => [s.id, { ...s, role: roles.get(s.id) }]));
  $('#who').textContent = `Signed in as ${[me.firstName, me.lastName].filter(Boolean).join(' ')} (${me.email})`;
  $('#who').hidden = false;
  $('#sign-out').hidden = false;
  $('#sign-in').hidden = true;
  const list = $('#subscriptions');
  list.replaceChildren(...[...subscriptions.values()].map(subscriptionCard));
  $('#dashboard').hidden = false;
}

function subscriptionCard(s) {
  const titleId = `subscription-${s.id}`;
  const card = element('article', null, { class: 'subscription', 'aria-labelledby': titleId });
  const title = element('h3', s.id, { id: titleId });
  title.append(element('small', [s.offer?.name, s.deliverySchedule].filter(Boolean).join(' · ')));
  card.append(title);

  const details = element('dl');
  const row = (term, value) => {
    const dd = element('dd');
    dd.append(value instanceof Node ? value : document.createTextNode(value ?? '—'));
    details.append(element('dt', term), dd);
  };
  row('Status', element('span', s.status.replaceAll('_', ' ').toLowerCase(), { class: `status-${s.status}` }));
  row('Your role', s.role === 'OWNER' ? 'Owner' : 'Guest');
  row('Account', s.accountNumber);
  row('Household', s.householdLevel?.label ?? '—');
  const balance = s.balance.amount;  // > 0 is a credit, < 0 a debt (the sign is the server's)
  row('Balance', isZero(balance) ? money(s.balance)
    : `${money({ ...s.balance, amount: balance.replace(/^-/, '') })} ${balance.startsWith('-') ? 'due' : 'credit'}`);
  row('Ends', s.endDate ?? '—');
  row('Auto-pay', s.autoPay ? 'on' : 'off');
  if (s.billingOptions) {
    const options = element('ul');
    for (const option of s.billingOptions) {
      options.append(element('li', `${option.length} ${option.lengthUnit.toLowerCase()}: ${money(option.amount)}`));
    }
    row('Billing options', options);
  } else {
    row('Billing options', 'unavailable right now');
  }
  row('Payment method', describeMethod(s.paymentMethod));
  card.append(details);

  const actions = element('div', null, { class: 'actions' });
  const stopped = s.status === 'STOPPED' || s.status === 'PERMANENTLY_STOPPED';
  if (s.role !== 'OWNER') {
    card.append(element('p', 'Only the owner can pay or restart this subscription.', { class: 'note' }));
  } else {
    if (!stopped && s.billingOptions?.length) {
      const pay = element('button', 'Pay', { type: 'button' });
      pay.addEventListener('click', () => openCheckout(s.id, 'makePayment'));
      actions.append(pay);
    }
    if (s.restartAvailability.available && s.billingOptions?.length) {
      const restart = element('button', 'Restart', { type: 'button' });
      restart.addEventListener('click', () => openCheckout(s.id, 'restart'));
      actions.append(restart);
    } else if (stopped) {
      card.append(element('p', s.restartAvailability.reasons.map((r) => r.message).join(' '), { class: 'note' }));
    }
  }
  card.append(actions);
  if (s.role === 'OWNER' && !stopped) card.append(servicingSection(s, { graphql, element, showStatus, showProblem }));
  if (s.role === 'OWNER') card.append(accountPanel(s, { graphql, element, money, showStatus, showProblem, token: () => sessionStorage.getItem(TOKEN_KEY) }));
  card.append(addressSection(s, { graphql, element, showStatus, showProblem, userErrorMessages }));
  return card;
}

// -- the checkout: quote, card entry in NavigaPay's iframe, the mutation -----------------------------------
const QUOTE = `
query Quote($subscriptionId: ID!, $input: PaymentQuoteInput!) {
  paymentQuote(subscriptionId: $subscriptionId, input: $input) {
    quote {
      paymentType paymentRequired
      optionAmount { amount currency } optionTax { amount currency } tip { amount currency }
      donation { amount currency } activationFee { amount currency } processingFee { amount currency }
      processingFeeTax { amount currency } balanceApplied { amount currency } total { amount currency }
    }
    userErrors { code field message }
  }
}`;
const START_SESSION = `
mutation StartPaymentSession($input: StartPaymentSessionInput!) {
  startPaymentSession(input: $input) {
    session { sessionId groupId paymentType iframeUrl }
    userErrors { code field message }
  }
}`;
const COMPLETE_SESSION = `
mutation CompletePaymentSession($input: CompletePaymentSessionInput!) {
  completePaymentSession(input: $input) {
    paymentMethod { type cardBrand cardLast4 cardExpiry bankName bankAccountMasked }
    userErrors { code field message }
  }
}`;
const PAYMENT_RESULT = `
    payment { id state total { amount currency } errorCode }
    subscription { id status balance { amount currency } }
    userErrors { code field message }`;
const MAKE_PAYMENT = `mutation MakePayment($input: MakePaymentInput!) { makePayment(input: $input) { ${PAYMENT_RESULT} } }`;
const RESTART = `
mutation RestartSubscription($input: RestartSubscriptionInput!) { restartSubscription(input: $input) { ${PAYMENT_RESULT} } }`;

const FLOWS = {
  makePayment: { title: 'Pay', quoteInput: 'makePayment', mutation: MAKE_PAYMENT, field: 'makePayment',
    confirm: (total) => `Pay ${total}`, done: (total) => `Payment applied: ${total} charged.` },
  restart: { title: 'Restart', quoteInput: 'restart', mutation: RESTART, field: 'restartSubscription',
    confirm: (total) => `Restart and pay ${total}`, free: 'Restart (nothing to pay)',
    done: (total) => `Subscription restarted: ${total} charged.` },
};

// the checkout in progress: { subscription, flow, method, quote, key, session, frameOrigin }
let checkout = null;

function openCheckout(subscriptionId, flowName) {
  const subscription = subscriptions.get(subscriptionId);
  checkout = { subscription, flow: FLOWS[flowName], method: subscription.paymentMethod };
  showProblem([]);
  showStatus('');
  $('#checkout-title').textContent = `${checkout.flow.title} ${subscription.id}`;
  const select = $('#option-form select');
  select.replaceChildren(...subscription.billingOptions.map((option, index) => element(
    'option', `${option.length} ${option.lengthUnit.toLowerCase()} (${option.term}): ${money(option.amount)}`,
    { value: String(index) })));
  $('#card-entry').hidden = true;
  $('#checkout').hidden = false;
  $('#checkout').scrollIntoView();
  requestQuote();
}

function closeCheckout() {
  checkout = null;
  $('#checkout').hidden = true;
  $('#card-entry').removeAttribute('src');
}

function chosenOption() {
  return checkout.subscription.billingOptions[Number($('#option-form select').value)];
}

async function requestQuote() {
  const current = checkout;
  const option = chosenOption();
  current.quote = null;
  renderCheckout();
  const paymentType = current.method?.type ?? 'CREDIT_CARD';
  const input = { [current.flow.quoteInput]: { optionTerm: option.term, optionAmount: option.amount.amount, paymentType } };
  try {
    const { paymentQuote } = await graphql(QUOTE, { subscriptionId: current.subscription.id, input });
    if (current !== checkout) return;
    if (paymentQuote.userErrors.length) {
      showProblem(userErrorMessages(paymentQuote.userErrors));
      return;
    }
    current.quote = paymentQuote.quote;
    current.key = crypto.randomUUID();  // one attempt per quote: a retry of this attempt re-sends this key
  } catch (error) {
    showProblem(error.message);
  }
  if (current === checkout) renderCheckout();
}

function renderCheckout() {
  const { quote, method, flow } = checkout;
  const rows = [];
  if (quote) {
    const line = (label, value, always = false) => {
      if (always || !isZero(value.amount)) rows.push([label, money(value)]);
    };
    line('Billing option (tax included)', quote.optionAmount, true);
    line('Tip', quote.tip);
    line('Donation', quote.donation);
    line('Activation fee', quote.activationFee);
    line('Card processing fee', quote.processingFee);
    line('Tax on the processing fee', quote.processingFeeTax);
    line('Balance applied (credit +, debt −)', quote.balanceApplied);
    rows.push(['Total', money(quote.total)]);
  }
  $('#quote tbody').replaceChildren(...rows.map(([label, value], index) => {
    const tr = element('tr', null, index === rows.length - 1 && quote ? { class: 'total' } : {});
    tr.append(element('td', label), element('td', value));
    return tr;
  }));
  const needsMethod = quote ? quote.paymentRequired : true;
  $('#method-text').textContent = !needsMethod ? 'Nothing to pay: your credit covers it.'
    : method ? `Paying with ${describeMethod(method)}.` : 'Add a card to pay.';
  const cardButton = $('#card-entry-button');
  cardButton.hidden = !needsMethod;
  cardButton.textContent = method ? 'Use another card' : 'Enter card details';
  const confirm = $('#confirm');
  confirm.disabled = !quote || (needsMethod && !method);
  confirm.textContent = !quote ? 'Getting the price…'
    : !quote.paymentRequired && flow.free ? flow.free : flow.confirm(money(quote.total));
}

async function openCardEntry() {
  const current = checkout;
  const payload = await mutate(START_SESSION, { subscriptionId: current.subscription.id, paymentType: 'CREDIT_CARD' },
    'startPaymentSession').catch((error) => ({ userErrors: [{ message: error.message, code: 'NO_ANSWER' }] }));
  if (payload.userErrors.length) {
    showProblem(userErrorMessages(payload.userErrors));
    return;
  }
  current.session = payload.session;
  current.frameOrigin = new URL(payload.session.iframeUrl, location.href).origin;
  const frame = $('#card-entry');
  frame.src = payload.session.iframeUrl;
  frame.hidden = false;
}

// NavigaPay's page posts { type: "navigapay:tokenized", profileId, groupId, paymentType } to this window
window.addEventListener('message', async (event) => {
  const current = checkout;
  if (!current?.session || event.source !== $('#card-entry').contentWindow || event.origin !== current.frameOrigin) return;
  const { type, profileId, groupId, paymentType } = event.data ?? {};
  if (type !== 'navigapay:tokenized') return;
  const { sessionId } = current.session;
  current.session = null;
  try {
    const payload = await mutate(COMPLETE_SESSION, {
      subscriptionId: current.subscription.id, sessionId, profileId, groupId, paymentType,
    }, 'completePaymentSession');
    if (payload.userErrors.length) {
      showProblem(userErrorMessages(payload.userErrors));
      return;
    }
    current.method = payload.paymentMethod;
    $('#card-entry').hidden = true;
    showStatus(`Card saved: ${describeMethod(current.method)}.`);
    if (current === checkout) await requestQuote();  // the method's type decides the fees (FEE-1)
  } catch (error) {
    showProblem(error.message);
  }
});

async function confirmCheckout() {
  const current = checkout;
  const { quote, flow, subscription } = current;
  const option = chosenOption();
  const confirm = $('#confirm');
  confirm.disabled = true;  // one click, one attempt; a second request would carry the same key anyway
  showProblem([]);
  const input = {
    subscriptionId: subscription.id, idempotencyKey: current.key, optionTerm: option.term,
    optionAmount: option.amount.amount, total: quote.total.amount,
    ...(quote.paymentType ? { paymentType: quote.paymentType } : {}),
  };
  let payload;
  try {
    payload = await mutate(flow.mutation, input, flow.field);
  } catch (error) {
    // no answer: the payment may or may not have gone through; the same key makes a retry safe
    showProblem(`${error.message}. Try again: the same attempt is sent, so nothing is charged twice.`);
    confirm.disabled = false;
    return;
  }
  if (payload.userErrors.length) {
    showProblem(userErrorMessages(payload.userErrors));
    if (payload.payment) showStatus(`Payment ${payload.payment.id} is ${payload.payment.state.toLowerCase()}.`);
    return;
  }
  closeCheckout();
  try {
    await showDashboard();  // re-read: the balance, status and payment method the upstreams now report
  } finally {
    showStatus(`${flow.done(money(payload.payment.total))} (payment ${payload.payment.id})`);
  }
}

// -- wiring ---------------------------------------------------------------------------------------------
let pendingMfaToken = null;

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  closeCheckout();
  $('#dashboard').hidden = true;
  $('#who').hidden = true;
  $('#sign-out').hidden = true;
  $('#sign-in').hidden = false;
  $('#password-form').hidden = false;
  $('#mfa-form').hidden = true;
  showStatus(message);
}

async function signedIn(accessToken) {
  sessionStorage.setItem(TOKEN_KEY, accessToken);
  showProblem([]);
  showStatus('');
  await showDashboard();
}

$('#password-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const result = await signIn(form.get('username'), form.get('password'));
    if (result.mfaToken) {
      pendingMfaToken = result.mfaToken;
      $('#password-form').hidden = true;
      $('#mfa-form').hidden = false;
      return;
    }
    await signedIn(result.accessToken);
  } catch (error) {
    showProblem(error.message);
  }
});

$('#mfa-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  try {
    await signedIn(await verifyMfa(pendingMfaToken, new FormData(event.target).get('otp')));
  } catch (error) {
    showProblem(error.message);
  }
});

$('#sign-out').addEventListener('click', () => signOut('Signed out.'));
$('#option-form select').addEventListener('change', () => requestQuote());
$('#card-entry-button').addEventListener('click', () => openCardEntry());
$('#confirm').addEventListener('click', () => confirmCheckout());
$('#cancel').addEventListener('click', () => closeCheckout());

if (sessionStorage.getItem(TOKEN_KEY)) {
  showDashboard().catch((error) => showProblem(error.message));
} else {
  signOut();
}

import('./journey.js').then((journey) => journey.start({ graphql, showDashboard }));  // buy and invite (journey.js)
