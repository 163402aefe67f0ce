// /demo/sign-in/: sign up (createUser) and sign in (papergraph's signIn) as a Valley Courier (CPRDEMO) customer.
// With `?claim=<token>` (the link of the CLAIMPURCHASE message, BUY-10) it is also the claim page: once signed in,
// purchaseClaim(token) shows what was bought with the customer's e-mail and claimPurchase links it to them as OWNER;
// then the account page shows it.
import {
  $, complain, demoHome, graphql, money, mutate, nextPage, say, signIn, TOKEN_KEY, userErrorMessages,
} from '../identity.js';

const CREATE_USER = `
mutation SignUp($input: CreateUserInput!) {
  createUser(input: $input) { accepted userErrors { code field message } }
}`;
const CLAIM_PREVIEW = `
query PurchaseClaim($token: String!) {
  purchaseClaim(token: $token) { subscriptionId offerName term charged { amount currency } boughtAt expiresAt state }
}`;
const CLAIM = `
mutation ClaimPurchase($input: ClaimPurchaseInput!) {
  claimPurchase(input: $input) { subscription { id } userErrors { code field message } }
}`;

const params = new URLSearchParams(location.search);
if (params.get('email')) $('#sign-in-form [name=loginName]').value = params.get('email');
const claimToken = params.get('claim');

// the claim page, signed in: purchaseClaim answers only the registration with the purchase's e-mail (null for
// anyone else, saying nothing about whose it is)
async function showClaim() {
  const claim = (await graphql(CLAIM_PREVIEW, { token: claimToken })).purchaseClaim;
  if (!claim) {
    complain('This claim link is not for the account signed in: sign in with the e-mail address the ' +
      'subscription was bought with.');
    return;
  }
  $('.identity-columns').hidden = true;
  const what = [claim.offerName, claim.term].filter(Boolean).join(', ') || 'A subscription';
  const charged = claim.charged ? `, ${money(claim.charged)}` : '';
  const bought = `${what} (${claim.subscriptionId}${charged}), bought ${new Date(claim.boughtAt).toLocaleDateString()}`;
  const states = {
    PENDING: `${bought} with your e-mail address. Claim it to see it on your account page: the link works once, ` +
      `until ${new Date(claim.expiresAt).toLocaleString()}.`,
    CLAIMED: `${bought}: it is claimed already, the link works once.`,
    EXPIRED: `${bought}: the link expired. Valley Courier's customer service can link the subscription to you.`,
  };
  $('#claim-text').textContent = states[claim.state] ?? bought;
  $('#claim-button').hidden = claim.state !== 'PENDING';
  $('#claim-button').disabled = claim.state !== 'PENDING';
  say(claim.state === 'PENDING' ? 'Signed in: claim the subscription below.' : '');
}

async function claimIt() {
  const payload = await mutate(CLAIM, { token: claimToken }, 'claimPurchase');
  if (payload.userErrors.length) {
    complain(userErrorMessages(payload.userErrors));
    return;
  }
  say(`${payload.subscription.id} is yours.`);
  location.assign(demoHome);  // the account page shows it, as the owner's
}

if (claimToken) {
  $('#claim').hidden = false;
  $('#claim-button').addEventListener('click', async () => {
    $('#claim-button').disabled = true;
    try {
      await claimIt();
    } catch (error) {
      complain(error.message);
    } finally {
      $('#claim-button').disabled = false;
    }
  });
  if (sessionStorage.getItem(TOKEN_KEY)) showClaim().catch((error) => complain(error.message));
}

$('#sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const refused = await signIn(form.get('loginName'), form.get('password'));
    if (refused.length) {
      complain(userErrorMessages(refused));
      return;
    }
    if (claimToken) await showClaim();  // the claim link: signed in, show what is claimed
    else location.assign(nextPage(demoHome));  // the account page shows the signed-in customer's subscriptions
  } catch (error) {
    complain(error.message);
  }
});
$('#sign-up-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const input = Object.fromEntries(['firstName', 'lastName', 'email', 'password'].map((name) => [name, form.get(name)]));
  const button = event.target.querySelector('button');
  button.disabled = true;
  try {
    // a self-service sign-up: the registration waits for its e-mail to be verified (USR-3, USR-8), and the answer
    // is the same whether or not the address was registered already
    const payload = await mutate(CREATE_USER, input, 'createUser');
    if (payload.userErrors.length) {
      complain(userErrorMessages(payload.userErrors));
      return;
    }
    $('#sent-to').textContent = input.email;
    $('#mailbox-link').href = `../mail/?to=${encodeURIComponent(input.email)}`;
    $('#check-mail').hidden = false;
    $('#sign-in-form [name=loginName]').value = input.email;
    event.target.reset();
    say('Account requested: check your mail.');
  } catch (error) {
    complain(error.message);
  } finally {
    button.disabled = false;
  }
});

// the buttons wait for this script: a click before it ran would submit the form as a plain GET
for (const button of document.querySelectorAll('form button')) button.disabled = false;
