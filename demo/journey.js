// The account page's part of the identity journey (docs/demo.md): once a customer is signed in, buy a NEW
// subscription from the catalog with a new card typed into NavigaPay's hosted page, and invite a guest to a
// subscription they own. demo/app.js starts it with its GraphQL client and `showDashboard` (to show a purchase);
// the sections appear with the dashboard and go with it.
//
//   buying    demo/purchase.js: the catalog, a new-start payment session and its hosted iframe, purchaseSubscription
//   inviting  inviteGuests for one address (INV-1) → the guest gets a mail with the link (demo/invitation/);
//             pendingInvitations lists what waits (INV-2)
import { $, element, REFRESH_KEY, TOKEN_KEY, userErrorMessages } from './identity.js';
import { CATALOG, forgetPurchase, purchaseSection } from './purchase.js';

const CONTEXT = `
query JourneyContext {
  me { firstName lastName email links { role subscriptionId } }
  ${CATALOG}
}`;
const INVITE = `
mutation Invite($input: InviteGuestsInput!) {
  inviteGuests(input: $input) { invitations { id email state } userErrors { code field message } }
}`;
const PENDING = `
query Pending($subscriptionId: ID!) { pendingInvitations(subscriptionId: $subscriptionId) { email expiresAt } }`;

let api = null;  // { graphql, showDashboard } from demo/app.js
let me = null;

export function start({ graphql, showDashboard }) {
  api = { graphql, showDashboard };
  const dashboard = $('#dashboard');
  new MutationObserver(() => (dashboard.hidden ? close() : open())).observe(dashboard, { attributes: true,
    attributeFilter: ['hidden'] });
  if (!dashboard.hidden) open();
  // signing out of a session papergraph issued ends it at papergraph too (SSN-4); runs before app.js forgets it
  $('#sign-out').addEventListener('click', endOwnSession, { capture: true });
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
  forgetPurchase();
  $('#buy')?.remove();
  $('#invite')?.remove();
}

async function open() {
  if ($('#buy')) return;
  const data = await api.graphql(CONTEXT).catch(() => null);
  if (!data?.me || $('#buy') || $('#dashboard').hidden) return;
  me = data.me;
  const buy = purchaseSection({ graphql: api.graphql, cards: data.catalog?.nodes ?? [], who: me, done: bought });
  $('#dashboard').after(buy, inviteSection());
  await showInvitable();
}

// after a purchase: the dashboard shows the new subscription, and it may be shared
async function bought() {
  await api.showDashboard().catch(() => {});
  me = (await api.graphql(CONTEXT).catch(() => null))?.me ?? me;  // the new OWNER link
  await showInvitable();
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
