// /demo/subscribe/: a stranger buys a new subscription without signing in (BUY-11). The answer is the same whether
// the e-mail is registered or not; only its mailbox learns which: a new e-mail gets an account, unverified and
// linked as OWNER, and the verification mail plus the purchase confirmation with a link to choose a password
// (BUY-4, USR-3); a registered e-mail's subscription is linked to nobody and waits, its owner being mailed a link to
// sign in and claim it (BUY-10, /demo/sign-in/?claim=…).
import { $, complain, graphql, say, TOKEN_KEY } from '../identity.js';
import { CATALOG, purchaseSection } from '../purchase.js';

if (sessionStorage.getItem(TOKEN_KEY)) {
  $('#signed-in').hidden = false;
} else {
  try {
    const { catalog } = await graphql(`query Catalog { ${CATALOG} }`);
    $('main').append(purchaseSection({ graphql, cards: catalog?.nodes ?? [], who: null,
      done: (payload, choice, subscriber) => say(`Thank you: ${payload.subscription.id} is bought. We sent a ` +
        `message to ${subscriber.email}: a new address gets a link to verify it and one to choose a password; ` +
        'an address with an account already gets a link to sign in and claim the subscription.') }));
  } catch (error) {
    complain(error.message);
  }
}
