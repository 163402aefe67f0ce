// The demo's mailbox: the mail emulator's inbox API (Mailpit's shape) under /sandbox/mail, same origin.
const API = '/sandbox/mail/api/v1';

function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

async function list(to) {
  const url = to ? `${API}/search?query=${encodeURIComponent(`to:${to}`)}` : `${API}/messages`;
  const answer = await fetch(url);
  if (!answer.ok) throw new Error(`the mailbox answered ${answer.status}`);
  return (await answer.json()).messages;
}

async function show(id) {
  const message = await (await fetch(`${API}/message/${encodeURIComponent(id)}`)).json();
  document.getElementById('subject').textContent = message.Subject;
  document.getElementById('meta').textContent =
    `From ${message.From.Name} <${message.From.Address}> to ${message.To.map((t) => t.Address).join(', ')}`;
  document.getElementById('text').textContent = message.Text;
  const links = document.getElementById('links');
  links.replaceChildren(...[...new Set(message.Text.match(/https?:\/\/\S+/g) || [])].map((href) => {
    const item = element('li');
    item.append(element('a', href, { href }));
    return item;
  }));
  document.getElementById('message').hidden = false;
}

async function refresh() {
  const to = new FormData(document.getElementById('filter')).get('to');
  const status = document.getElementById('status');
  try {
    const messages = await list(to);
    status.textContent = messages.length ? `${messages.length} message(s)` : 'No message yet.';
    document.getElementById('messages').replaceChildren(...messages.map((m) => {
      const item = element('li');
      const button = element('button', `${m.Subject} — ${m.To.map((t) => t.Address).join(', ')}`, { type: 'button' });
      button.addEventListener('click', () => show(m.ID));
      item.append(button);
      return item;
    }));
  } catch (error) {
    status.textContent = String(error.message || error);
  }
}

const params = new URLSearchParams(location.search);
if (params.get('to')) document.querySelector('#filter [name=to]').value = params.get('to');
document.getElementById('filter').addEventListener('submit', (event) => { event.preventDefault(); refresh(); });
refresh();
