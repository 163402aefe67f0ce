// The identity journey's pages (docs/demo.md, "The identity journey"): a customer of Valley Courier (CPRDEMO, an
// own-auth MG2 tenant, where papergraph is the identity provider) signs up, verifies the e-mail from the link papergraph
// mailed, signs in with papergraph's `signIn`, and a guest accepts an invitation from its link. Each page is a small
// HTML file under demo/ whose path is the one papergraph's messages link to (`Site.FrontEndUrl`, here `/demo/`):
//
//   sign-in/        createUser (a self-service sign-up: verifyEmail is on, the answer never says whether the
//                   e-mail was known) and signIn (login name + password → papergraph's RS256 access token)
//   verify-email/   verifyEmail with the link's e-mail and code, on a click (a mail scanner fetching the link
//                   must not use up the single-use code); verifying never signs in (SSN-2)
//   invitation/     invitation(token) shows who invites whom; acceptInvitation signed in, or with a password
//                   that creates the invited address's registration, then signIn
//   subscribe/      a stranger's purchase without an account (demo/purchase.js, BUY-10, BUY-11)
//
// A publisher's front end knows its own tenant: an anonymous request names it in `X-Tenant`; a signed-in one
// carries it in the token. The access token goes where demo/app.js keeps it, so the account page (`/demo/`)
// shows the signed-in customer's subscriptions.

export const TENANT = 'CPRDEMO';
export const TENANT_NAME = 'Valley Courier';
export const TOKEN_KEY = 'papergraph-demo-token';  // demo/app.js's
export const REFRESH_KEY = 'papergraph-demo-refresh';  // set only for a session papergraph issued (signIn)
const config = await (await fetch(new URL('config.json', import.meta.url))).json();

export const $ = (selector, root = document) => root.querySelector(selector);

export function element(tag, text, attributes = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

// amounts are shown, never computed: Intl formats the server's decimal string as it is (PAY-1)
export function money({ amount, currency }) {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(amount);
}

export const userErrorMessages = (userErrors) => userErrors.map((e) => `${e.message} (${e.code})`);

// the same contract as demo/app.js's client: errors without data are thrown, a partial answer is returned
export async function graphql(query, variables = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch(config.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : { 'x-tenant': TENANT }),
    },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) {
    forgetSession();
    throw new Error('Your session has ended: sign in again.');
  }
  const body = await response.json().catch(() => null);
  if (!body) throw new Error(`The API answered HTTP ${response.status} without a GraphQL response`);
  if (!body.data) throw new Error((body.errors ?? []).map((e) => e.message).join('; ') || 'No answer');
  return body.data;
}

// a mutation's payload, `{ ..., userErrors }`
export async function mutate(document, input, field) {
  const data = await graphql(document, input === undefined ? {} : { input });
  if (!data[field]) throw new Error(`${field} answered nothing`);
  return data[field];
}

export function forgetSession() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(REFRESH_KEY);
}

const SIGN_IN = `
mutation SignIn($input: SignInInput!) {
  signIn(input: $input) { session { accessToken refreshToken } userErrors { code field message } }
}`;

// papergraph's own sign-in (SSN-1): the answer's userErrors, empty when the session is kept
export async function signIn(loginName, password) {
  forgetSession();
  const payload = await mutate(SIGN_IN, { loginName, password }, 'signIn');
  if (!payload.userErrors.length) {
    sessionStorage.setItem(TOKEN_KEY, payload.session.accessToken);
    sessionStorage.setItem(REFRESH_KEY, payload.session.refreshToken);
  }
  return payload.userErrors;
}

// a page's messages: #status for what happened, #problem for what went wrong
export function say(text) {
  $('#problem').replaceChildren();
  $('#status').textContent = text;
}

export function complain(messages) {
  const list = [].concat(messages).filter(Boolean);
  $('#status').textContent = '';
  const ul = element('ul');
  for (const message of list) ul.append(element('li', message));
  $('#problem').replaceChildren(...(list.length ? [ul] : []));
}

// `?next=` is followed only within the demo, never to another site
export function nextPage(fallback) {
  const next = new URLSearchParams(location.search).get('next');
  const url = next ? new URL(next, location.href) : null;
  return url && url.origin === location.origin && url.pathname.startsWith('/demo/') ? url.href : fallback;
}

export const demoHome = new URL('./', import.meta.url).href;
