// The subscriber's delivery address in the demo (ADR-1, ADR-3): each subscription card shows the address the
// circulation system holds and its moves; the owner changes it with `moveSubscriber`, a guest only reads it.
//
//   addressSection(subscription, api)  the card's "Delivery address" region; `api` is app.js's
//                                      { graphql, element, showStatus, showProblem, userErrorMessages }
//
// Rules it keeps: the effective date is left to the server when the subscriber picks none (papergraph takes today
// in the paper's time zone, which the browser does not know); the postal code is checked by papergraph against the
// paper's PostalCodeMask and the answer's userErrors are shown as they are; text goes in as text.

const ADDRESS = `
query SubscriberAddress($id: ID!) {
  subscription(id: $id) {
    id
    subscriber { address { houseNumber streetName city postalCode country } }
    addressMoves { id effectiveDate status address { streetName postalCode } }
  }
}`;

const MOVE = `
mutation MoveSubscriber($input: MoveSubscriberInput!) {
  moveSubscriber(input: $input) {
    move { id effectiveDate status address { houseNumber streetName city postalCode country } }
    userErrors { code field message }
  }
}`;

function describe(address) {
  if (!address) return 'none on file';
  return [`${address.houseNumber ?? ''} ${address.streetName ?? ''}`.trim(), address.city, address.postalCode,
    address.country].filter(Boolean).join(', ');
}

export function addressSection(subscription, api) {
  const { graphql, element, showStatus, showProblem, userErrorMessages } = api;
  const section = element('section', null, { class: 'address', 'aria-label': `Delivery address ${subscription.id}` });
  const current = element('p', 'Loading the address…', { class: 'current-address' });
  const moves = element('ul', null, { class: 'moves' });
  section.append(element('h4', 'Delivery address'), current, moves);

  let address = null;
  async function load() {
    const data = await graphql(ADDRESS, { id: subscription.id });
    address = data?.subscription?.subscriber?.address ?? null;
    current.textContent = describe(address);
    moves.replaceChildren(...(data?.subscription?.addressMoves ?? []).map((m) =>
      element('li', `${m.status === 'APPLIED' ? 'Moved' : 'Moving'} on ${m.effectiveDate} to ${m.address.streetName}, ${m.address.postalCode}`)));
  }
  load().catch((error) => { current.textContent = `unavailable (${error.message})`; });

  if (subscription.role !== 'OWNER') {
    section.append(element('p', 'Only the owner can change the delivery address.', { class: 'note' }));
    return section;
  }

  const open = element('button', 'Change address', { type: 'button' });
  const form = element('form', null, { class: 'move-form', hidden: '' });
  const field = (label, name, attributes = {}) => {
    const wrapper = element('label', label);
    wrapper.append(element('input', null, { name, ...attributes }));
    form.append(wrapper);
  };
  field('House number', 'houseNumber', { required: '' });
  field('Street', 'streetName', { required: '' });
  field('City', 'city', { required: '' });
  field('Postal code', 'postalCode', { required: '' });
  field('Country', 'country', { required: '', maxlength: '2' });
  field('From (optional)', 'effectiveDate', { type: 'date' });
  const submit = element('button', 'Move', { type: 'submit' });
  form.append(submit);
  open.addEventListener('click', () => {
    form.hidden = false;
    open.hidden = true;
    form.elements.country.value = address?.country ?? '';
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(form));
    const { effectiveDate, ...newAddress } = values;
    const input = { subscriptionId: subscription.id, address: newAddress,
      ...(effectiveDate ? { effectiveDate } : {}) };
    submit.disabled = true;
    try {
      const data = await graphql(MOVE, { input });
      const payload = data?.moveSubscriber;
      if (!payload) return;
      if (payload.userErrors.length) {
        showProblem(userErrorMessages(payload.userErrors));
        return;
      }
      showProblem([]);
      const move = payload.move;
      showStatus(move.status === 'APPLIED' ? `Address changed to ${describe(move.address)}.`
        : `Address change scheduled for ${move.effectiveDate}.`);
      form.hidden = true;
      open.hidden = false;
      form.reset();
      await load();
    } catch (error) {
      showProblem(error.message);
    } finally {
      submit.disabled = false;
    }
  });
  section.append(open, form);
  return section;
}
