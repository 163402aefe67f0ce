// /demo/subscribe/: a stranger buys a new subscription without signing in (BUY-11). The answer is the same whether
// the e-mail is registered or not; the subscription is linked to nobody and waits: papergraph mails the address a
// link to sign in (or sign up) and claim it (BUY-10).
import { $, complain, graphql, say, TOKEN_KEY } from '../identity.js';
import { CATALOG, purchaseSection } from '../purchase.js';

if (sessionStorage.getItem(TOKEN_KEY)) {
  $('#signed-in').hidden = false;
} else {
  try {
    const { catalog } = await graphql(`query Catalog { ${CATALOG} }`);
    $('main').append(purchaseSection({ graphql, cards: catalog?.nodes ?? [], who: null,
      done: (payload, choice, subscriber) => say(`Thank you: ${payload.subscription.id} is bought. We sent a ` +
        `message to ${subscriber.email}: sign in or create an account with that address to claim it.`) }));
  } catch (error) {
    complain(error.message);
  }
}
