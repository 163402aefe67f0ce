// Buying a NEW subscription (docs/demo.md, the identity journey): a term of an offer from the catalog, a new card
// typed into NavigaPay's hosted page, and purchaseSubscription. The account page (demo/journey.js) shows it to a
// signed-in customer, whose purchase is theirs; demo/subscribe/ to a stranger, who gives a name and an e-mail and
// whose subscription waits to be claimed from that address (BUY-10).
//
//   catalog → startPaymentSession { offerId, term } (a new start, BUY-11; signed in or not) → the hosted iframe,
//   whose postMessage { type: "navigapay:tokenized", profileId, groupId } is accepted only from that frame and
//   origin → purchaseSubscription { paymentSession } with an idempotency key made once per card entry, so a double
//   click or a retry after a lost answer never buys twice. What was charged is the server's `charged` (PAY-1).
import { $, element, money, userErrorMessages } from './identity.js';

export const CATALOG = `
  catalog(first: 20) {
    nodes { offerId name offer { activationFee { amount currency }
            terms { code length lengthUnit amount { amount currency } commercial } } }
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

let buying = null;  // { graphql, choice, subscriber, session, frameOrigin, posted, key, done }
let listening = false;

// the section: `who` is the signed-in customer ({ firstName, lastName, email }) or null (a stranger: the form asks);
// `done(payload, choice, subscriber)` runs after a purchase
export function purchaseSection({ graphql, cards, who, done }) {
  if (!listening) {
    window.addEventListener('message', cardTokenized);
    listening = true;
  }
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
  const fieldset = (legend, fields) => {
    const set = element('fieldset');
    set.append(element('legend', legend));
    for (const [name, text, attributes] of fields) {
      const field = element('label', `${text} `);
      field.append(element('input', null, { name, required: '', ...attributes }));
      set.append(field);
    }
    return set;
  };
  if (!who) {
    form.append(fieldset('Subscriber', [['firstName', 'First name', { autocomplete: 'given-name' }],
      ['lastName', 'Last name', { autocomplete: 'family-name' }], ['email', 'E-mail', { type: 'email' }]]));
  }
  form.append(fieldset('Delivery address', [['houseNumber', 'House number', {}], ['streetName', 'Street', {}],
    ['city', 'City', {}], ['postalCode', 'Postal code', {}], ['country', 'Country', { value: 'US' }]]));
  form.append(element('p', 'Card fees, where the publisher charges them, are added; the receipt shows every line.',
    { class: 'note' }), element('button', 'Continue to card entry', { type: 'submit' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const address = Object.fromEntries(['houseNumber', 'streetName', 'city', 'postalCode', 'country']
      .map((name) => [name, data.get(name)]));
    const person = who ?? Object.fromEntries(['firstName', 'lastName', 'email'].map((name) => [name, data.get(name)]));
    const subscriber = { firstName: person.firstName ?? '', lastName: person.lastName ?? '', email: person.email,
      address };
    openCardFrame(graphql, choices[Number(select.value)], subscriber, done)
      .catch((error) => buyNote(error.message));
  });
  const confirm = element('button', 'Buy now', { id: 'buy-confirm', type: 'button', hidden: '' });
  confirm.addEventListener('click', () => buy());
  section.append(form, element('iframe', null, { id: 'buy-frame', title: 'Card for the new subscription',
    hidden: '' }), confirm, element('p', null, { id: 'buy-result', class: 'note', 'aria-live': 'polite' }));
  return section;
}

export function forgetPurchase() {
  buying = null;
}

function buyNote(text) {
  $('#buy-result').textContent = text;
}

async function openCardFrame(graphql, choice, subscriber, done) {
  buyNote('');
  const { startPaymentSession: payload } = await graphql(START_SESSION, { input: {
    offerId: choice.offerId, term: choice.term, paymentType: 'CREDIT_CARD' } });
  if (payload.userErrors.length) {
    buyNote(userErrorMessages(payload.userErrors).join(' '));
    return;
  }
  buying = { graphql, choice, subscriber, done, session: payload.session,
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
  buyNote('Card saved at NavigaPay.');
}

async function buy() {
  const current = buying;
  if (!current?.posted) return;
  const confirm = $('#buy-confirm');
  confirm.disabled = true;  // one click, one attempt; a second request would carry the same key anyway
  let payload;
  try {
    ({ purchaseSubscription: payload } = await current.graphql(PURCHASE, { input: {
      idempotencyKey: current.key, offerId: current.choice.offerId, term: current.choice.term,
      subscriber: current.subscriber, paymentSession: current.posted } }));
  } catch (error) {
    buyNote(`${error.message}. Try again: the same attempt is sent, so nothing is bought twice.`);
    confirm.disabled = false;
    return;
  }
  if (payload.userErrors.length) {
    buyNote(userErrorMessages(payload.userErrors).join(' '));
    return;
  }
  buying = null;
  confirm.hidden = true;
  const text = `Subscribed: ${payload.subscription.id} (${current.choice.name}), ${money(payload.charged)} charged.`;
  await current.done?.(payload, current.choice, current.subscriber);
  buyNote(text);
}
