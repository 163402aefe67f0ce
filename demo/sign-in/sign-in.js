// /demo/sign-in/: sign up (createUser) and sign in (papergraph's signIn) as a Valley Courier (CPRDEMO) customer.
import { $, complain, demoHome, mutate, nextPage, say, signIn, userErrorMessages } from '../identity.js';

const CREATE_USER = `
mutation SignUp($input: CreateUserInput!) {
  createUser(input: $input) { accepted userErrors { code field message } }
}`;

const params = new URLSearchParams(location.search);
if (params.get('email')) $('#sign-in-form [name=loginName]').value = params.get('email');

$('#sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const refused = await signIn(form.get('loginName'), form.get('password'));
    if (refused.length) {
      complain(userErrorMessages(refused));
      return;
    }
    location.assign(nextPage(demoHome));  // the account page shows the signed-in customer's subscriptions
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
