// /demo/reset-password/?token=…: the link to choose a password (USR-7), e.g. the one the purchase confirmation
// carries when an anonymous purchase created the registration with a generated password (BUY-4, USR-3). The link
// works once, for 24 hours; saving the password does not sign in, and an unverified address must be verified
// first (USR-8) to sign in with it.
import { $, complain, mutate, say, userErrorMessages } from '../identity.js';

const FINISH = `
mutation ChoosePassword($input: FinishForgotPasswordInput!) {
  finishForgotPassword(input: $input) { userErrors { code field message } }
}`;

const token = new URLSearchParams(location.search).get('token') ?? '';
if (!token) complain('This link has no token: open the link of the message.');

$('#password-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = event.target.querySelector('button');
  button.disabled = true;
  try {
    const payload = await mutate(FINISH, { token, password: new FormData(event.target).get('password') },
      'finishForgotPassword');
    if (payload.userErrors.length) {
      complain(userErrorMessages(payload.userErrors));
      return;
    }
    event.target.hidden = true;
    $('#saved').hidden = false;
    say('Password saved.');
  } catch (error) {
    complain(error.message);
  } finally {
    button.disabled = false;
  }
});

$('#password-form button').disabled = false;  // it waits for this script
