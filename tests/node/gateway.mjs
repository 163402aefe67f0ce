// A federated graph for tests/http/test_gateway.py: a small second subgraph ("delivery") that extends
// papergraph's CustomerSubscription and Registration entities by key, composed with papergraph by
// @apollo/gateway (IntrospectAndCompose reads each subgraph's `_service { sdl }`) and served by Apollo
// Server, both on loopback ports of their own.
//
// usage: node gateway.mjs '{"papergraph": "<papergraph /graphql URL>", "route": {"stops": [ids], "readers": [crids]}}'
// Optional (`make supergraph`, sandbox/supergraph.py): "gatewayPort" and "deliveryPort" (default: any free port),
// "subgraphs": [{"name", "url"}] composed alongside (a developer's own).
// Prints one JSON line on stdout, {"gateway": url, "delivery": url}, then serves until killed; on a
// composition (or start-up) failure prints {"error": message, "errors": [messages]} and exits 1.
// The delivery subgraph answers GET /seen with the Authorization headers it received.
import http from 'node:http';

import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/http';

const config = JSON.parse(process.argv[2] ?? '{}');

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type CustomerSubscription @key(fields: "id") {
    id: ID!
    "Where the carrier leaves the paper."
    deliveryNotes: String!
  }

  type Registration @key(fields: "crid") {
    crid: String!
    loyaltyPoints: Int!
  }

  type DeliveryRoute {
    code: String!
    stops: [CustomerSubscription!]!
    readers: [Registration!]!
  }

  type Query {
    deliveryRoute(code: String!): DeliveryRoute
  }
`);

// deterministic, so the test can predict them
const deliveryNotes = (id) => `Leave ${id} at the side door`;
const loyaltyPoints = (crid) => [...crid].reduce((sum, char) => sum + char.charCodeAt(0), 0) % 1000;

const resolvers = {
  Query: {
    deliveryRoute: (_root, { code }) => ({
      code,
      stops: (config.route?.stops ?? []).map((id) => ({ id })),
      readers: (config.route?.readers ?? []).map((crid) => ({ crid })),
    }),
  },
  CustomerSubscription: {
    __resolveReference: ({ id }) => ({ id }),
    deliveryNotes: ({ id }) => deliveryNotes(id),
  },
  Registration: {
    __resolveReference: ({ crid }) => ({ crid }),
    loyaltyPoints: ({ crid }) => loyaltyPoints(crid),
  },
};

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.deliveryPort ?? 0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`));
  });
}

const seenAuthorization = [];
const handleGraphQL = createHandler({ schema: buildSubgraphSchema({ typeDefs, resolvers }) });
const delivery = http.createServer((req, res) => {
  if (req.url === '/seen') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seenAuthorization));
    return;
  }
  seenAuthorization.push(req.headers.authorization ?? null);
  handleGraphQL(req, res);
});

// Every subgraph gets the Authorization (and tenant) of the request the gateway is answering.
class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    for (const name of ['authorization', 'x-tenant']) {
      if (context?.[name]) request.http.headers.set(name, context[name]);
    }
  }
}

try {
  const deliveryUrl = await listen(delivery);
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({
      subgraphs: [
        { name: 'papergraph', url: config.papergraph },
        { name: 'delivery', url: `${deliveryUrl}/graphql` },
        ...(config.subgraphs ?? []),
      ],
    }),
    buildService: ({ url }) => new ForwardingDataSource({ url }),
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: config.gatewayPort ?? 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization, 'x-tenant': req.headers['x-tenant'] }),
  });
  process.stdout.write(`${JSON.stringify({ gateway: url, delivery: deliveryUrl })}\n`);
} catch (error) {
  const errors = (error.errors ?? error.causes ?? []).map((cause) => cause.message ?? String(cause));
  process.stdout.write(`${JSON.stringify({ error: error.message ?? String(error), errors })}\n`);
  process.exit(1);
}
