// Runs every graphql-http server audit (GraphQL over HTTP) against the URL given as the first argument
// and prints one JSON array on stdout: [{id, name, status: ok|notice|warn|error, reason}].
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql endpoint URL>');
  process.exit(2);
}
const results = await Promise.all(serverAudits({ url }).map(({ fn }) => fn()));
process.stdout.write(JSON.stringify(results.map(({ id, name, status, reason }) => ({ id, name, status, reason: reason ?? null }))));
