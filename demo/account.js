// Billing and auto-pay on a subscription card: eBill sign-up and sign-out (EBL-1, EZ-3), the bill statements with
// their PDFs (EBL-4), and the current auto-pay plan with its cancel (EZ-4, EZ-5). Owners only, like paying.
//
// What to copy from here:
// - everything is read when the panel is opened, in one query, and read again after a change: the page shows what
//   the circulation system holds, never a flag it flipped itself;
// - whether eBill may be signed up or managed comes from `ebillAvailability` (with its reason), not from rules
//   re-written in JavaScript; a refusal comes back as `userErrors { code message }`;
// - a statement's PDF is fetched with the same Authorization header as GraphQL (the download route checks who
//   asks), then handed to the browser as a blob: the token never goes into a URL;
// - amounts are the server's decimal strings, formatted, never computed.

const ACCOUNT = `
query Account($id: ID!) {
  subscription(id: $id) {
    id autoPay ebill
    ebillAvailability { signUpAllowed manageAllowed reason { code message } }
    currentPlan { term length lengthUnit paidThroughDate amount { amount currency } autoRenew
                  balance { amount currency } }
    billStatements { id issueDate periodStart periodEnd amountDue { amount currency } downloadUrl }
  }
}`;
const CHANGES = {
  signUpEBill: ['mutation SignUpEBill($input: SignUpEBillInput!) { signUpEBill(input: $input) {', 'eBill is on: bills go to your e-mail.'],
  signOutEBill: ['mutation SignOutEBill($input: SignOutEBillInput!) { signOutEBill(input: $input) {', 'eBill is off: bills come by post.'],
  cancelAutoPay: ['mutation CancelAutoPay($input: CancelAutoPayInput!) { cancelAutoPay(input: $input) {', 'Auto-pay is cancelled; the subscription goes on.'],
};

// `api`: what the page shares — graphql(query, variables), element(tag, text, attributes), money({amount, currency}),
// showStatus(text), showProblem(messages), token() and refresh() (the dashboard again).
export function accountPanel(subscription, api) {
  const panel = api.element('details', null, { class: 'account', 'data-account': subscription.id });
  panel.append(api.element('summary', 'Billing and auto-pay'));
  const body = api.element('div');
  panel.append(body);
  const load = async () => {
    try {
      const data = await api.graphql(ACCOUNT, { id: subscription.id });
      body.replaceChildren(...render(data.subscription, api, load));
    } catch (error) {
      api.showProblem(error.message);
    }
  };
  panel.addEventListener('toggle', () => { if (panel.open) load(); });
  return panel;
}

function render(s, api, reload) {
  if (!s) return [api.element('p', 'This subscription is not available.', { class: 'note' })];
  return [ebillSection(s, api, reload), planSection(s, api, reload), statementsSection(s, api)];
}

async function change(field, subscriptionId, api, reload) {
  const [head, done] = CHANGES[field];
  const document = `${head} subscription { id } userErrors { code field message } } }`;
  try {
    const data = await api.graphql(document, { input: { subscriptionId } });
    const payload = data?.[field];
    if (!payload) throw new Error(`${field} answered nothing`);
    if (payload.userErrors.length) {
      api.showProblem(payload.userErrors.map((e) => `${e.message} (${e.code})`));
    } else {
      api.showProblem([]);
      api.showStatus(done);
    }
  } catch (error) {
    api.showProblem(error.message);
  }
  await reload();
}

function button(api, label, onClick, attributes = {}) {
  const b = api.element('button', label, { type: 'button', ...attributes });
  b.addEventListener('click', async () => {
    b.disabled = true;  // one change per click: a double click does not send it twice
    await onClick();
  });
  return b;
}

function ebillSection(s, api, reload) {
  const section = api.element('section', null, { class: 'ebill' });
  section.append(api.element('h4', 'eBill'));
  section.append(api.element('p', s.ebill ? 'On: bills go to your e-mail.' : 'Off: bills come by post.',
    { class: 'ebill-state' }));
  const availability = s.ebillAvailability;
  if (availability.signUpAllowed) {
    section.append(button(api, 'Sign up for eBill', () => change('signUpEBill', s.id, api, reload)));
  } else if (availability.manageAllowed) {
    section.append(button(api, 'Stop eBill', () => change('signOutEBill', s.id, api, reload)));
  } else if (availability.reason) {
    section.append(api.element('p', availability.reason.message, { class: 'note' }));
  }
  return section;
}

function planSection(s, api, reload) {
  const section = api.element('section', null, { class: 'plan' });
  section.append(api.element('h4', s.autoPay ? 'Auto-pay plan' : 'Current plan'));
  const plan = s.currentPlan;
  if (!plan) {
    section.append(api.element('p', 'The plan is unavailable right now.', { class: 'note' }));
    return section;
  }
  const list = api.element('dl');
  const row = (term, value) => list.append(api.element('dt', term), api.element('dd', value ?? '—'));
  row('Term', plan.term ? `${plan.length} ${plan.lengthUnit.toLowerCase()} (${plan.term})` : null);
  row('Amount', api.money(plan.amount));
  row('Paid through', plan.paidThroughDate);
  row('Renews by itself', plan.autoRenew ? 'yes' : 'no');
  row('Balance', api.money(plan.balance));
  section.append(list);
  if (s.autoPay) {
    section.append(button(api, 'Cancel auto-pay', () => change('cancelAutoPay', s.id, api, reload)));
  }
  return section;
}

function statementsSection(s, api) {
  const section = api.element('section', null, { class: 'statements' });
  section.append(api.element('h4', 'Bill statements'));
  if (!s.billStatements) {
    section.append(api.element('p', 'Statements are unavailable right now.', { class: 'note' }));
    return section;
  }
  if (!s.billStatements.length) section.append(api.element('p', 'No statements yet.', { class: 'note' }));
  const list = api.element('ul');
  for (const statement of s.billStatements) {  // newest first, as the API orders them
    const item = api.element('li', `${statement.issueDate} · ${api.money(statement.amountDue)} `);
    item.append(button(api, 'Download PDF', () => download(statement, api), { 'data-statement': statement.id }));
    list.append(item);
  }
  section.append(list);
  return section;
}

async function download(statement, api) {
  // the route checks the caller: send the token as a header, never in the URL
  const path = new URL(statement.downloadUrl, window.location.href).pathname;
  const response = await fetch(path, { headers: { authorization: `Bearer ${api.token()}` } });
  if (!response.ok) {
    api.showProblem(`The statement could not be downloaded (HTTP ${response.status}).`);
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = api.element('a', null, { href: url, download: `${statement.id}.pdf` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  api.showStatus(`Downloaded the statement of ${statement.issueDate}.`);
}
