// Servicing on the demo's account page: a subscriber schedules and cancels a vacation stop (STP-1) and reports a
// missed delivery, made good with e-edition access for today and tomorrow (CMP-1, CMP-2). A module of its own,
// hooked into each subscription card by app.js (`servicingSection(subscription, ui)`).
//
// What it shows a front end doing:
// - dates come from the server: the start and restart dates offered are `temporaryStopDates` (read live from the
//   circulation system, in the paper's time zone); the page never decides which days are possible;
// - every change is a mutation answering `userErrors { code field message }`, shown as they are;
// - the e-edition access is the complaint's own `temporaryEntitlement` (ENT-3): the page shows what the server
//   granted, with its end, and computes nothing.

const SERVICING = `
query Servicing($id: ID!) {
  subscription(id: $id) {
    id digital
    temporaryStops { id startDate restartDate reason }
    complaints { id category deliveryDate resolution temporaryEntitlement { entitlementCode expiresAt active } }
  }
  temporaryStopDates(subscriptionId: $id)
  complaintCategories { code description }
}`;

const SCHEDULE = `
mutation Schedule($input: ScheduleTemporaryStopInput!) {
  scheduleTemporaryStop(input: $input) { temporaryStop { id startDate restartDate } userErrors { code field message } }
}`;

const CANCEL = `
mutation CancelStop($input: CancelTemporaryStopInput!) {
  cancelTemporaryStop(input: $input) { temporaryStop { id } userErrors { code field message } }
}`;

const COMPLAIN = `
mutation Complain($input: FileComplaintInput!) {
  fileComplaint(input: $input) {
    complaint { id category deliveryDate temporaryEntitlement { entitlementCode expiresAt active } }
    userErrors { code field message }
  }
}`;

const RESOLUTIONS = [
  ['EEDITION_ACCESS', 'E-edition access for today and tomorrow'],
  ['NONE', 'Nothing: just record it'],
];

// `ui`: app.js's own helpers { graphql, element, showStatus, showProblem }
export function servicingSection(subscription, ui) {
  const { element } = ui;
  const id = subscription.id;
  const box = element('div', null, { class: 'servicing' });
  const open = element('button', 'Stops and complaints', { type: 'button' });
  const region = element('section', null, { 'aria-label': `Servicing ${id}`, class: 'servicing-panel' });
  region.hidden = true;
  open.addEventListener('click', async () => {
    region.hidden = !region.hidden;
    if (!region.hidden) await refresh();
  });
  box.append(open, region);

  async function refresh() {
    const data = await ui.graphql(SERVICING, { id });
    region.replaceChildren(...render(data));
  }

  // one mutation: its userErrors shown as they are, else the status line and a fresh panel
  async function act(document, field, input, done) {
    ui.showProblem([]);
    const data = await ui.graphql(document, { input });
    const payload = data?.[field];
    if (!payload) return;
    if (payload.userErrors.length) {
      ui.showProblem(payload.userErrors.map((e) => `${e.message} (${e.code})`));
      return;
    }
    ui.showStatus(done(payload));
    await refresh();
  }

  function render(data) {
    const s = data.subscription;
    const parts = [element('h4', 'Vacation stops')];
    if (s.digital) {
      parts.push(element('p', 'A digital subscription has no print delivery to stop.', { class: 'note' }));
    } else {
      const stops = element('ul', null, { 'aria-label': `Vacation stops of ${id}` });
      for (const stop of s.temporaryStops ?? []) {
        const item = element('li', `From ${stop.startDate} until ${stop.restartDate ?? 'further notice'} (${stop.reason})`);
        const cancel = element('button', 'Cancel stop', { type: 'button' });
        cancel.addEventListener('click', () => act(CANCEL, 'cancelTemporaryStop', { subscriptionId: id, stopId: stop.id },
          () => `Vacation stop from ${stop.startDate} cancelled`));
        item.append(' ', cancel);
        stops.append(item);
      }
      if (!s.temporaryStops?.length) stops.append(element('li', 'No vacation stop scheduled.'));
      parts.push(stops);
      parts.push(stopForm(data.temporaryStopDates ?? []));
    }
    parts.push(element('h4', 'Report a delivery problem'), complaintForm(data.complaintCategories));
    const history = element('ul', null, { 'aria-label': `Delivery problems of ${id}` });
    for (const c of s.complaints) {
      const access = c.temporaryEntitlement ? ` — e-edition access until ${c.temporaryEntitlement.expiresAt}` : '';
      history.append(element('li', `${c.category} on ${c.deliveryDate}${access}`));
    }
    parts.push(history);
    return parts;
  }

  function select(label, options, selected) {
    const wrapper = element('label', label);
    const input = element('select');
    for (const [value, text] of options) {
      const option = element('option', text, { value });
      if (value === selected) option.selected = true;
      input.append(option);
    }
    wrapper.append(input);
    return { wrapper, input };
  }

  function stopForm(offered) {
    const form = element('form', null, { 'aria-label': `Schedule a vacation stop for ${id}` });
    if (!offered.length) {
      form.append(element('p', 'No stop dates are offered right now.', { class: 'note' }));
      return form;
    }
    const days = offered.map((d) => [d, d]);
    const start = select('Stop from', days, offered[0]);
    const restart = select('Restart on', [['', 'until further notice'], ...days.slice(1)], offered[Math.min(7, offered.length - 1)]);
    const submit = element('button', 'Schedule stop', { type: 'submit' });
    form.append(start.wrapper, restart.wrapper, submit);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(SCHEDULE, 'scheduleTemporaryStop', {
        subscriptionId: id, startDate: start.input.value, restartDate: restart.input.value || null, reason: 'VACATION',
      }, (p) => `Vacation stop scheduled from ${p.temporaryStop.startDate}`);
    });
    return form;
  }

  function complaintForm(categories) {
    const form = element('form', null, { 'aria-label': `Report a delivery problem for ${id}` });
    const category = select('Problem', categories.map((c) => [c.code, c.description]), 'MISSED');
    const when = element('label', 'Delivery date');
    // the browser's yesterday as a default; the server decides what "not in the future" means (tenant time)
    const yesterday = new Date(Date.now() - 86_400_000);
    const day = element('input', null, { type: 'date', value: yesterday.toLocaleDateString('en-CA') });
    when.append(day);
    const resolution = select('Make it good with', RESOLUTIONS, 'EEDITION_ACCESS');
    const submit = element('button', 'Report problem', { type: 'submit' });
    form.append(category.wrapper, when, resolution.wrapper, submit);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      act(COMPLAIN, 'fileComplaint', {
        subscriptionId: id, category: category.input.value, deliveryDate: day.value, resolution: resolution.input.value,
      }, (p) => (p.complaint.temporaryEntitlement
        ? `Problem recorded: e-edition access until ${p.complaint.temporaryEntitlement.expiresAt}`
        : 'Problem recorded'));
    });
    return form;
  }

  return box;
}
