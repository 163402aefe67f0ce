// /demo/invitation/?token=…: the link of the INVITEGUEST message (INV-2, INV-4). Anyone holding the link may read
// what it is about; accepting links the signed-in customer as GUEST, or creates the invited address's registration
// with the password given here and then signs in with it.
import {
  $, complain, demoHome, graphql, mutate, say, signIn, TOKEN_KEY, userErrorMessages,
} from '../identity.js';

const PREVIEW = `
query Invitation($token: String!) {
  invitation(token: $token) { email firstName lastName hostName state expiresAt }
}`;
const ACCEPT = `
mutation Accept($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) { link { role subscriptionId } userErrors { code field message } }
}`;
const ME = 'query Me { me { email } }';

const token = new URLSearchParams(location.search).get('token') ?? '';
let invitation = null;

async function show() {
  invitation = token ? (await graphql(PREVIEW, { token })).invitation : null;
  if (!invitation) {
    complain('This invitation link is not valid.');
    return;
  }
  const host = invitation.hostName ?? 'A subscriber';
  $('#invitation-title').textContent = `${host} invites you to Valley Courier`;
  const until = new Date(invitation.expiresAt).toLocaleString();
  $('#invitation-text').textContent = invitation.state === 'PENDING'
    ? `${host} shares a subscription with ${invitation.email}. The link works once, until ${until}.`
    : `This invitation is ${invitation.state.toLowerCase()}: ask ${host} for a new one.`;
  $('#invitation').hidden = false;
  if (invitation.state !== 'PENDING') return;
  const me = sessionStorage.getItem(TOKEN_KEY) ? (await graphql(ME).catch(() => ({}))).me : null;
  if (me) {
    $('#accept').textContent = `Accept as ${me.email}`;
    $('#accept-signed-in').hidden = false;
  } else {
    $('#invited-address').textContent = invitation.email;
    const back = `${location.pathname}${location.search}`;
    $('#sign-in-first').href = `../sign-in/?email=${encodeURIComponent(invitation.email)}&next=${encodeURIComponent(back)}`;
    $('#accept-form').hidden = false;
  }
  for (const button of document.querySelectorAll('#invitation button')) button.disabled = false;  // they waited for this
}

async function accept(password) {
  const payload = await mutate(ACCEPT, { token, ...(password ? { password } : {}) }, 'acceptInvitation');
  if (payload.userErrors.length) {
    complain(userErrorMessages(payload.userErrors));
    if (payload.userErrors.some((e) => e.code === 'EMAIL_ALREADY_REGISTERED')) $('#sign-in-first').focus();
    return;
  }
  if (password) {  // the registration made now: sign in with it (accepting does not sign in by itself)
    const refused = await signIn(invitation.email, password);
    if (refused.length) {
      complain(userErrorMessages(refused));
      return;
    }
  }
  say(`You joined ${payload.link.subscriptionId} as a guest.`);
  location.assign(demoHome);
}

$('#accept').addEventListener('click', async () => {
  $('#accept').disabled = true;
  await accept(null).catch((error) => complain(error.message));
  $('#accept').disabled = false;
});

$('#accept-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = event.target.querySelector('button');
  button.disabled = true;
  await accept(new FormData(event.target).get('password')).catch((error) => complain(error.message));
  button.disabled = false;
});

show().catch((error) => complain(error.message));
