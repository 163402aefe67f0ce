// /demo/verify-email/?email=…&code=…: the link of the VERIFYCODE message (without one, the e-mail and the code
// typed in). The code is used on a click, not on load, so a mail scanner that fetches the link does not use it up;
// verifying never signs in (SSN-2).
import { $, complain, mutate, say, userErrorMessages } from '../identity.js';

const VERIFY = `
mutation Verify($input: VerifyEmailInput!) {
  verifyEmail(input: $input) { userErrors { code field message } }
}`;

const params = new URLSearchParams(location.search);
let email = params.get('email') ?? '';
let code = params.get('code') ?? '';
$('#address').textContent = email;
if (!email || !code) {  // no link, or part of one: the message's code is typed in
  $('#confirm-text').hidden = true;
  $('#code-form').hidden = false;
  $('#code-form [name=email]').value = email;
}
$('#verify').disabled = false;  // it waits for this script
$('#code-form').addEventListener('submit', (event) => {
  event.preventDefault();
  $('#verify').click();
});

$('#verify').addEventListener('click', async () => {
  if (!$('#code-form').hidden) {
    const form = $('#code-form');
    if (!form.reportValidity()) return;
    ({ email, code } = Object.fromEntries(new FormData(form)));
  }
  $('#verify').disabled = true;
  try {
    const payload = await mutate(VERIFY, { email, code }, 'verifyEmail');
    if (payload.userErrors.length) {
      complain(userErrorMessages(payload.userErrors));
      $('#verify').disabled = false;
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
