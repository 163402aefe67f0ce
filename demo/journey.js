// The account page's part of the identity journey (docs/demo.md): once a customer is signed in, buy a NEW
// subscription from the catalog with a new card typed into NavigaPay's hosted page, and invite a guest to a
// subscription they own. demo/app.js starts it with its GraphQL client and `showDashboard` (to show a purchase);
// the sections appear with the dashboard and go with it.
//
//   buying    catalog → startPaymentSession { offerId, term } (a new start, BUY-11) → the hosted iframe, whose
//             postMessage { type: "navigapay:tokenized", profileId, groupId } is accepted only from that frame
//             and origin → purchaseSubscription { paymentSession } with an idempotency key made once per card
//             entry, so a retry after a lost answer never buys twice. What was charged is the server's `charged`.
//   inviting  inviteGuests for one address (INV-1) → the guest gets a mail with the link (demo/invitation/);
//             pendingInvitations lists what waits (INV-2)
import { $, element, money, REFRESH_KEY, TOKEN_KEY, userErrorMessages } from './identity.js';

const CONTEXT = `
query JourneyContext {
  me { firstName lastName email links { role subscriptionId } }
  catalog(first: 20) {
    nodes { offerId name offer { digital activationFee { amount currency }
            terms { code length lengthUnit amount { amount currency } commercial } } }
  }
}`;
const START_SESSION = `
mutation StartNewStartSession($input: StartPaymentSessionInput!) {
  startPaymentSession(input: $input) { session { sessionId iframeUrl } userErrors { code field message } }
}`;
const PURCHASE = `
mutation Purchase($input: PurchaseSubscriptionInput!) {
  purchaseSubscription(input: $input) {
    subscription { id status } charged { amount currency } userErrors { code field message }
  }
}`;
const INVITE = `
mutation Invite($input: InviteGuestsInput!) {
  inviteGuests(input: $input) { invitations { id email state } userErrors { code field message } }
}`;
const PENDING = `
query Pending($subscriptionId: ID!) { pendingInvitations(subscriptionId: $subscriptionId) { email expiresAt } }`;

let api = null;  // { graphql, showDashboard } from demo/app.js
let me = null;
let buying = null;  // { choice, subscriber, session, frameOrigin, posted, key }

export function start({ graphql, showDashboard }) {
  api = { graphql, showDashboard };
  const dashboard = $('#dashboard');
  new MutationObserver(() => (dashboard.hidden ? close() : open())).observe(dashboard, { attributes: true,
    attributeFilter: ['hidden'] });
  if (!dashboard.hidden) open();
  // signing out of a session papergraph issued ends it at papergraph too (SSN-4); runs before app.js forgets it
  $('#sign-out').addEventListener('click', endOwnSession, { capture: true });
  window.addEventListener('message', cardTokenized);
}

function endOwnSession() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token && sessionStorage.getItem(REFRESH_KEY)) {
    fetch('/graphql', { method: 'POST', keepalive: true,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation SignOut { signOut { signedOut } }' }) }).catch(() => {});
  }
  sessionStorage.removeItem(REFRESH_KEY);
}

function close() {
  me = null;
  buying = null;
  $('#buy')?.remove();
  $('#invite')?.remove();
}

async function open() {
  if ($('#buy')) return;
  const data = await api.graphql(CONTEXT).catch(() => null);
  if (!data?.me || $('#buy') || $('#dashboard').hidden) return;
  me = data.me;
  $('#dashboard').after(buySection(data.catalog?.nodes ?? []), inviteSection());
  await showInvitable();
}

// -- buying a new subscription ---------------------------------------------------------------------------
function buySection(cards) {
  const section = element('section', null, { id: 'buy', class: 'journey', 'aria-labelledby': 'buy-title' });
  section.append(element('h2', 'Buy a new subscription', { id: 'buy-title' }));
  const form = element('form', null, { id: 'buy-form', 'aria-label': 'Buy a new subscription' });
  const select = element('select', null, { name: 'choice' });
  const choices = [];
  for (const card of cards) {
    for (const term of card.offer.terms.filter((t) => t.commercial)) {
      const fee = card.offer.activationFee;
      const feeText = Number(fee.amount) ? ` + ${money(fee)} activation fee` : '';
      choices.push({ offerId: card.offerId, term: term.code, name: card.name });
      select.append(element('option', `${card.name}, ${term.length} ${term.lengthUnit.toLowerCase()}: ` +
        `${money(term.amount)}${feeText}`, { value: String(choices.length - 1) }));
    }
  }
  const label = element('label', 'Offer ');
  label.append(select);
  form.append(label);
  const address = element('fieldset');
  address.append(element('legend', 'Delivery address'));
  for (const [name, text, value] of [['houseNumber', 'House number', ''], ['streetName', 'Street', ''],
    ['city', 'City', ''], ['postalCode', 'Postal code', ''], ['country', 'Country', 'US']]) {
    const field = element('label', `${text} `);
    field.append(element('input', null, { name, required: '', value }));
    address.append(field);
  }
  form.append(address, element('p', 'Card fees, where the publisher charges them, are added; the receipt shows ' +
    'every line.', { class: 'note' }), element('button', 'Continue to card entry', { type: 'submit' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    openCardFrame(choices[Number(select.value)], new FormData(form)).catch((error) => buyProblem(error.message));
  });
  const confirm = element('button', 'Buy now', { id: 'buy-confirm', type: 'button', hidden: '' });
  confirm.addEventListener('click', () => buy());
  section.append(form, element('iframe', null, { id: 'buy-frame', title: 'Card for the new subscription',
    hidden: '' }), confirm, element('p', null, { id: 'buy-result', class: 'note', 'aria-live': 'polite' }));
  return section;
}

function buyProblem(text) {
  $('#buy-result').textContent = text;
}

async function openCardFrame(choice, form) {
  buyProblem('');
  const address = Object.fromEntries(['houseNumber', 'streetName', 'city', 'postalCode', 'country']
    .map((name) => [name, form.get(name)]));
  const subscriber = { firstName: me.firstName ?? '', lastName: me.lastName ?? '', email: me.email, address };
  const { startPaymentSession: payload } = await api.graphql(START_SESSION, { input: {
    offerId: choice.offerId, term: choice.term, paymentType: 'CREDIT_CARD' } });
  if (payload.userErrors.length) {
    buyProblem(userErrorMessages(payload.userErrors).join(' '));
    return;
  }
  buying = { choice, subscriber, session: payload.session,
    frameOrigin: new URL(payload.session.iframeUrl, location.href).origin };
  $('#buy-confirm').hidden = true;
  const frame = $('#buy-frame');
  frame.src = payload.session.iframeUrl;
  frame.hidden = false;
}

function cardTokenized(event) {
  const current = buying;
  if (!current?.session || event.source !== $('#buy-frame')?.contentWindow || event.origin !== current.frameOrigin) {
    return;
  }
  const { type, profileId, groupId } = event.data ?? {};
  if (type !== 'navigapay:tokenized') return;
  current.posted = { sessionId: current.session.sessionId, profileId, groupId };
  current.key = crypto.randomUUID();  // one purchase attempt per card entry: a retry re-sends this key
  $('#buy-frame').hidden = true;
  const confirm = $('#buy-confirm');
  confirm.textContent = `Buy ${current.choice.name} now`;
  confirm.disabled = false;
  confirm.hidden = false;
  buyProblem('Card saved at NavigaPay.');
}

async function buy() {
  const current = buying;
  if (!current?.posted) return;
  const confirm = $('#buy-confirm');
  confirm.disabled = true;  // one click, one attempt; a second request would carry the same key anyway
  let payload;
  try {
    ({ purchaseSubscription: payload } = await api.graphql(PURCHASE, { input: {
      idempotencyKey: current.key, offerId: current.choice.offerId, term: current.choice.term,
      subscriber: current.subscriber, paymentSession: current.posted } }));
  } catch (error) {
    buyProblem(`${error.message}. Try again: the same attempt is sent, so nothing is bought twice.`);
    confirm.disabled = false;
    return;
  }
  if (payload.userErrors.length) {
    buyProblem(userErrorMessages(payload.userErrors).join(' '));
    return;
  }
  buying = null;
  confirm.hidden = true;
  const done = `Subscribed: ${payload.subscription.id} (${current.choice.name}), ${money(payload.charged)} charged.`;
  await api.showDashboard().catch(() => {});
  me = (await api.graphql(CONTEXT).catch(() => null))?.me ?? me;  // the new OWNER link, for inviting
  await showInvitable();
  buyProblem(done);
}

// -- inviting a guest ------------------------------------------------------------------------------------
function inviteSection() {
  const section = element('section', null, { id: 'invite', class: 'journey', 'aria-labelledby': 'invite-title' });
  section.append(element('h2', 'Invite a guest', { id: 'invite-title' }));
  const form = element('form', null, { id: 'invite-form', 'aria-label': 'Invite a guest' });
  const select = element('select', null, { name: 'subscriptionId' });
  const subscriptionLabel = element('label', 'Subscription you own ');
  subscriptionLabel.append(select);
  form.append(subscriptionLabel);
  for (const [name, text, type] of [['email', "Guest's e-mail", 'email'], ['firstName', "Guest's first name", 'text'],
    ['lastName', "Guest's last name", 'text']]) {
    const field = element('label', `${text} `);
    field.append(element('input', null, { name, type, ...(name === 'email' ? { required: '' } : {}) }));
    form.append(field);
  }
  form.append(element('button', 'Send the invitation', { type: 'submit' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    invite(form).catch((error) => { $('#invite-result').textContent = error.message; });
  });
  select.addEventListener('change', () => showPending());
  const pending = element('div', null, { id: 'invite-pending' });
  pending.append(element('h3', 'Pending invitations'), element('ul', null, { id: 'pending' }));
  section.append(element('p', 'You own no subscription yet: buy one to share it.', { id: 'invite-none',
    class: 'note', hidden: '' }), form, element('p', null, { id: 'invite-result', class: 'note', 'aria-live': 'polite' }),
  pending);
  return section;
}

async function showInvitable() {
  if (!$('#invite')) return;
  const owned = (me?.links ?? []).filter((link) => link.role === 'OWNER').map((link) => link.subscriptionId);
  const select = $('#invite-form select');
  const chosen = select.value;
  select.replaceChildren(...owned.map((id) => element('option', id, { value: id })));
  if (owned.includes(chosen)) select.value = chosen;
  else if (owned.length) select.value = owned[owned.length - 1];  // the newest link last: a new purchase
  $('#invite-form').hidden = !owned.length;
  $('#invite-pending').hidden = !owned.length;
  $('#invite-none').hidden = Boolean(owned.length);
  await showPending();
}

async function invite(form) {
  const data = new FormData(form);
  const invitee = { email: data.get('email') };
  for (const name of ['firstName', 'lastName']) if (data.get(name)) invitee[name] = data.get(name);
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const { inviteGuests: payload } = await api.graphql(INVITE, { input: {
      subscriptionId: data.get('subscriptionId'), invitees: [invitee] } });
    if (payload.userErrors.length) {
      $('#invite-result').textContent = userErrorMessages(payload.userErrors).join(' ');
      return;
    }
    $('#invite-result').textContent = `Invitation sent to ${payload.invitations.map((i) => i.email).join(', ')}.`;
    for (const name of ['email', 'firstName', 'lastName']) form.elements[name].value = '';
    await showPending();
  } finally {
    button.disabled = false;
  }
}

async function showPending() {
  const subscriptionId = $('#invite-form select')?.value;
  const list = $('#pending');
  if (!subscriptionId || !list) return list?.replaceChildren();
  const data = await api.graphql(PENDING, { subscriptionId }).catch(() => null);
  const pending = data?.pendingInvitations ?? [];
  list.replaceChildren(...(pending.length ? pending.map((i) => element('li',
    `${i.email}, until ${new Date(i.expiresAt).toLocaleDateString()}`)) : [element('li', 'None.')]));
}
