// /demo/verify-email/?email=…&code=…: the link of the VERIFYCODE message. The code is used on a click, not on
// load, so a mail scanner that fetches the link does not use it up; verifying never signs in (SSN-2).
import { $, complain, mutate, say, userErrorMessages } from '../identity.js';

const VERIFY = `
mutation Verify($input: VerifyEmailInput!) {
  verifyEmail(input: $input) { userErrors { code field message } }
}`;

const params = new URLSearchParams(location.search);
const email = params.get('email') ?? '';
const code = params.get('code') ?? '';
$('#address').textContent = email;
if (email && code) {
  $('#verify').disabled = false;  // it waits for this script
} else {
  complain('This link is incomplete: open the whole link from the message.');
}

$('#verify').addEventListener('click', async () => {
  $('#verify').disabled = true;
  try {
    const payload = await mutate(VERIFY, { email, code }, 'verifyEmail');
    if (payload.userErrors.length) {
      complain(userErrorMessages(payload.userErrors));
      return;
    }
    say('E-mail verified.');
    $('#sign-in-link').href = `../sign-in/?email=${encodeURIComponent(email)}`;
    $('#signed-up').hidden = false;
    $('#verify').hidden = true;
  } catch (error) {
    complain(error.message);
    $('#verify').disabled = false;
  }
});
