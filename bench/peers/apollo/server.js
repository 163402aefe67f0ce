// The Apollo Server 5 peer of papergraph's benchmark (bench/): the subscriber dashboard and the catalog,
// with papergraph's schema shape, over the same circulation emulator and the same PostgreSQL data.
//
// Written the way Apollo's own guidance says a fast subgraph is written, so the ratio papergraph reports
// against it means something: one DataLoader set per request (batching, per-request cache), a keep-alive
// undici pool to the upstream, a pg pool, cached parse/validate (Apollo's default document store), and a
// plain node:http server calling `executeHTTPGraphQLRequest` (no framework in front). `node cluster` runs as
// many processes as papergraph has uvicorn workers (PEER_WORKERS).
//
// Environment: PORT, PEER_WORKERS, DATABASE_URL (postgresql://user@host:port/db), CIRCULATION_BASE_URL,
// PEER_DB_POOL (default 10, papergraph's pool size), PEER_UPSTREAM_CONNECTIONS (default 100, likewise).
// `GET /_debug/stats` (loopback only) answers this process's counters, so the bench can count SQL
// statements and upstream calls per request exactly as it does for papergraph.

import cluster from 'node:cluster';
import http from 'node:http';
import process from 'node:process';

import { ApolloServer, HeaderMap } from '@apollo/server';
import DataLoader from 'dataloader';
import pg from 'pg';
import { Pool as UndiciPool } from 'undici';

const PORT = Number(process.env.PORT || 8300);
const WORKERS = Math.max(1, Number(process.env.PEER_WORKERS || 1));
const DB_POOL = Number(process.env.PEER_DB_POOL || 10);
const UPSTREAM_CONNECTIONS = Number(process.env.PEER_UPSTREAM_CONNECTIONS || 100);
const CIRCULATION = process.env.CIRCULATION_BASE_URL || 'http://127.0.0.1:8101';
const UPSTREAM_TIMEOUT_MS = 5000;
const TENANT_CACHE_MS = 30_000;
const BATCH_SIZE = 500; // the circulation system's limit on ids per batch request

const typeDefs = `#graphql
  scalar Date
  scalar Decimal
  enum RegistrationState { STANDARD LITE UNVERIFIED }
  enum LinkRole { OWNER GUEST }
  enum SubscriptionStatus { ACTIVE STOPPED PERMANENTLY_STOPPED PAUSED IN_GRACE }
  enum SubscriptionKind { REGULAR TRIAL COMPLIMENTARY GIFT PAID_PASS }
  enum PaymentMethodType { CREDIT_CARD BANK }
  enum AvailabilityReasonCode {
    NOT_STOPPED TRIAL RESTART_SCHEDULED NOT_SUPPORTED_BY_CIRCULATION_SYSTEM NOT_ON_AUTO_PAY DIGITAL STOPPED
    ON_AUTO_PAY ALREADY_ON_EBILL
  }
  type Money { amount: Decimal! currency: String! }
  type Registration {
    crid: String!
    registrationId: ID!
    email: String!
    firstName: String
    lastName: String
    state: RegistrationState!
    linkedSubscriptions(role: LinkRole = null): [CustomerSubscription!]!
  }
  type HouseholdLevel { id: ID! levelId: Int! description: String! active: Boolean! label: String! }
  type PaymentMethod {
    type: PaymentMethodType!
    cardBrand: String
    cardLast4: String
    cardExpiry: String
    bankName: String
    bankAccountMasked: String
    bankRoutingNumber: String
  }
  type BillingOption {
    term: String! length: Int! lengthUnit: String! rate: Money! tax: Money! otherCosts: Money! amount: Money!
    autoRenew: Boolean!
  }
  type AvailabilityReason { code: AvailabilityReasonCode! message: String! }
  type Availability { available: Boolean! reasons: [AvailabilityReason!]! }
  type TipAvailability { oneTime: Availability! recurring: Availability! }
  type EbillAvailability { signUpAllowed: Boolean! manageAllowed: Boolean! reason: AvailabilityReason }
  type CustomerSubscription {
    id: ID!
    accountNumber: String!
    status: SubscriptionStatus!
    kind: SubscriptionKind!
    deliverySchedule: String!
    digital: Boolean!
    startDate: Date!
    endDate: Date
    balance: Money!
    autoPay: Boolean!
    ebill: Boolean!
    billingMethod: String!
    customerReferenceNumber: String!
    name: String
    householdLevelId: Int
    productCode: String
    restartAvailability: Availability!
    tipAvailability: TipAvailability!
    ebillAvailability: EbillAvailability!
    householdLevel: HouseholdLevel
    paymentMethod: PaymentMethod
    billingOptions: [BillingOption!]
    offer: Offer
  }
  type OfferTerm {
    id: ID! offerId: ID! code: String! length: Int! lengthUnit: String! rate: Money! tax: Money! amount: Money!
    commercial: Boolean!
  }
  type Offer {
    id: ID!
    name: String!
    vendor: String!
    logoUrl: String
    shortDescription: String!
    category: String!
    trialAvailable: Boolean!
    digital: Boolean!
    activationFee: Money!
    validFrom: Date!
    validTo: Date
    allowedRegistrations: Int!
    terms: [OfferTerm!]!
    lowestCommercialPrice: Money
  }
  type CatalogCard {
    offerId: ID! vendor: String! logoUrl: String name: String! shortDescription: String! category: String!
    trialAvailable: Boolean! lowestCommercialPrice: Money offer: Offer!
  }
  type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
  type CatalogCardEdge { cursor: String! node: CatalogCard! }
  type CatalogCardConnection { edges: [CatalogCardEdge!]! pageInfo: PageInfo! totalCount: Int nodes: [CatalogCard!]! }
  type Query {
    registration(crid: String!): Registration
    catalog(category: String = null, vendor: String = null, trialAvailable: Boolean = null, first: Int = null,
            after: String = null): CatalogCardConnection!
  }
`;

// -- domain rules (the same as papergraph's domain/availability.py: RST-1, TIP-1, EZ-3, PM-1) ------------
const RESTART_KINDS = new Set(['NCS', 'SAXO', 'MATRIX']);
const TIP_KINDS = new Set(['NCS']);
const STOPPED = new Set(['STOPPED', 'PERMANENTLY_STOPPED']);
const availability = (reasons) => ({ available: reasons.length === 0, reasons });
const notSupported = (kind, what) => ({
  code: 'NOT_SUPPORTED_BY_CIRCULATION_SYSTEM', message: `The ${kind} circulation system does not support ${what}.`,
});

function availabilities(record, kind) {
  const stopped = STOPPED.has(record.status);
  const restart = [];
  if (!RESTART_KINDS.has(kind)) restart.push(notSupported(kind, 'restarts'));
  if (!stopped) restart.push({ code: 'NOT_STOPPED', message: 'Only a stopped subscription can be restarted.' });
  if (record.kind === 'TRIAL') restart.push({ code: 'TRIAL', message: 'A trial subscription cannot be restarted.' });
  if (record.restartScheduled) restart.push({ code: 'RESTART_SCHEDULED', message: 'A restart is already scheduled.' });
  const unsupported = TIP_KINDS.has(kind) ? [] : [notSupported(kind, 'tips')];
  const stoppedTip = { code: 'STOPPED', message: 'A stopped subscription cannot receive a tip.' };
  const oneTime = [...unsupported];
  if (record.digital) oneTime.push({ code: 'DIGITAL', message: 'A one-time tip is not available for a digital subscription.' });
  if (stopped) oneTime.push(stoppedTip);
  const recurring = [...unsupported];
  if (stopped) recurring.push(stoppedTip);
  if (!record.autoPay) recurring.push({ code: 'NOT_ON_AUTO_PAY', message: 'A recurring tip needs the subscription to be on auto-pay.' });
  let ebill;
  if (stopped) ebill = { signUpAllowed: false, manageAllowed: false, reason: { code: 'STOPPED', message: 'eBill is not available: the subscription is stopped.' } };
  else if (record.autoPay) ebill = { signUpAllowed: false, manageAllowed: false, reason: { code: 'ON_AUTO_PAY', message: 'eBill is not available: the subscription is on auto-pay.' } };
  else if (record.ebill) ebill = { signUpAllowed: false, manageAllowed: true, reason: { code: 'ALREADY_ON_EBILL', message: 'The subscription is already on eBill.' } };
  else ebill = { signUpAllowed: true, manageAllowed: false, reason: null };
  return {
    restartAvailability: availability(restart),
    tipAvailability: { oneTime: availability(oneTime), recurring: availability(recurring) },
    ebillAvailability: ebill,
  };
}

// amounts arrive as exact two-place decimal strings (pg NUMERIC(20,2), the upstream's JSON); cents add exactly
const money = (amount, currency) => ({ amount: typeof amount === 'string' ? amount : Number(amount).toFixed(2), currency });
const cents = (amount) => {
  const [whole, fraction = '0'] = String(amount).split('.');
  const sign = whole.startsWith('-') ? -1 : 1;
  return sign * (Math.abs(Number(whole)) * 100 + Number(fraction.padEnd(2, '0').slice(0, 2)));
};
const fromCents = (value) => `${value < 0 ? '-' : ''}${Math.floor(Math.abs(value) / 100)}.${String(Math.abs(value) % 100).padStart(2, '0')}`;

function subscriptionFromRecord(record, tenant) {
  const product = record.productCode == null ? null : String(record.productCode).trim();
  return {
    id: record.id,
    accountNumber: record.accountNumber,
    status: record.status,
    kind: record.kind,
    deliverySchedule: record.deliverySchedule,
    digital: Boolean(record.digital),
    startDate: record.startDate,
    endDate: record.endDate || null,
    balance: money(record.balance, record.currency),
    autoPay: Boolean(record.autoPay),
    ebill: Boolean(record.ebill),
    billingMethod: record.billingMethod,
    customerReferenceNumber: record.customerReferenceNumber || '',
    name: record.name ?? null,
    householdLevelId: record.householdLevelId == null ? null : Number(record.householdLevelId),
    productCode: product || null,
    offerId: product && /^\d+$/.test(product) ? Number(product) : null,
    ...availabilities(record, tenant.circulation_kind),
  };
}

function offerFromRow(row, currency) {
  return {
    id: String(row.id), offerId: row.id, name: row.name, vendor: row.vendor, logoUrl: row.logo_url,
    shortDescription: row.short_description, category: row.category, trialAvailable: row.trial_available,
    digital: row.digital, activationFee: money(row.activation_fee ?? 0, currency), validFrom: row.valid_from,
    validTo: row.valid_to, allowedRegistrations: row.allowed_registrations,
  };
}

function termFromRow(row, currency) {
  return {
    id: String(row.id), offerId: String(row.offer_id), code: row.code, length: row.length,
    lengthUnit: row.length_unit, rate: money(row.rate, currency), tax: money(row.tax, currency),
    amount: money(fromCents(cents(row.rate) + cents(row.tax)), currency), commercial: row.commercial,
    rateCents: cents(row.rate),
  };
}

function lowestPrice(terms) {
  let best = null;
  for (const term of terms) if (term.commercial && (best === null || term.rateCents < best.rateCents)) best = term;
  return best === null ? null : best.rate;
}

// -- the process's shared resources ----------------------------------------------------------------------
const stats = { sqlQueries: 0, upstreamCalls: 0, graphqlRequests: 0 };
let db;
let circulation;
const tenants = new Map(); // code -> { at, tenant }

function query(text, values) {
  stats.sqlQueries += 1;
  return db.query({ text, values, name: undefined }).then((result) => result.rows);
}

async function upstreamGet(path) {
  stats.upstreamCalls += 1;
  const { statusCode, body } = await circulation.request({
    method: 'GET', path, headers: { accept: 'application/json' }, headersTimeout: UPSTREAM_TIMEOUT_MS,
    bodyTimeout: UPSTREAM_TIMEOUT_MS,
  });
  if (statusCode >= 400) {
    await body.dump();
    throw new Error(`circulation answered ${statusCode}`);
  }
  return body.json();
}

async function tenantByCode(code) {
  const cached = tenants.get(code);
  const now = Date.now();
  if (cached && now - cached.at < TENANT_CACHE_MS) return cached.tenant;
  const rows = await query(
    'SELECT t.id, t.code, t.circulation_kind, t.time_zone, t.currency, s.value AS user_provider FROM tenant t '
    + "LEFT JOIN tenant_setting s ON s.tenant_id = t.id AND s.key = 'Flow.UserProvider' WHERE t.code = $1", [code]);
  const tenant = rows[0] || null;
  tenants.set(code, { at: now, tenant });
  return tenant;
}

const paperPath = (code) => `/api/v1/papers/${encodeURIComponent(code)}`;

async function batchedGet(path, param, ids) {
  const chunks = [];
  for (let i = 0; i < ids.length; i += BATCH_SIZE) chunks.push(ids.slice(i, i + BATCH_SIZE));
  return Promise.all(chunks.map((chunk) => upstreamGet(`${path}?${param}=${chunk.map(encodeURIComponent).join(',')}`)));
}

function groupBy(rows, key) {
  const grouped = new Map();
  for (const row of rows) {
    const k = row[key];
    let list = grouped.get(k);
    if (!list) grouped.set(k, (list = []));
    list.push(row);
  }
  return grouped;
}

// One loader set per request: batching within a tick, caching within the request only.
function createLoaders(tenant) {
  const { id: tenantId, currency } = tenant;
  return {
    registrationByCrid: new DataLoader(async (crids) => {
      const rows = await query(
        'SELECT id, crid, email, first_name, last_name, has_password, email_verified FROM registration '
        + 'WHERE tenant_id = $1 AND crid = ANY($2::text[])', [tenantId, crids]);
      const byCrid = new Map(rows.map((row) => [row.crid, row]));
      return crids.map((crid) => byCrid.get(crid) || null);
    }),
    linksByRegistrationId: new DataLoader(async (ids) => {
      const rows = await query(
        'SELECT id, registration_id, subscription_id, role FROM subscription_link '
        + 'WHERE tenant_id = $1 AND registration_id = ANY($2::int[]) ORDER BY id', [tenantId, ids]);
      const grouped = groupBy(rows, 'registration_id');
      return ids.map((id) => grouped.get(id) || []);
    }),
    subscriptionById: new DataLoader(async (ids) => {
      const pages = await batchedGet(`${paperPath(tenant.code)}/subscriptions`, 'ids', ids);
      const byId = new Map();
      for (const page of pages) for (const r of page.subscriptions) byId.set(r.id, subscriptionFromRecord(r, tenant));
      return ids.map((id) => byId.get(id) || null);
    }),
    billingOptionsBySubscriptionId: new DataLoader(async (ids) => {
      const pages = await batchedGet(`${paperPath(tenant.code)}/billing-options`, 'subscriptionIds', ids);
      const byId = new Map();
      for (const page of pages) for (const [id, options] of Object.entries(page.billingOptions)) byId.set(id, options);
      return ids.map((id) => (byId.get(id) || []).map((o) => ({
        term: o.term, length: Number(o.length), lengthUnit: o.lengthUnit, rate: money(o.rate, currency),
        tax: money(o.tax, currency), otherCosts: money(o.otherCosts || 0, currency), amount: money(o.amount, currency),
        autoRenew: Boolean(o.autoRenew),
      })));
    }),
    householdLevelById: new DataLoader(async (ids) => {
      const rows = await query(
        'SELECT level_id, description, active FROM household_level WHERE tenant_id = $1 AND level_id = ANY($2::int[])',
        [tenantId, ids]);
      const byId = new Map(rows.map((row) => [row.level_id, {
        id: String(row.level_id), levelId: row.level_id, description: row.description, active: row.active,
        label: `${row.level_id} - ${row.description}`,
      }]));
      return ids.map((id) => byId.get(id) || null);
    }),
    paymentMethodBySubscriptionId: new DataLoader(async (ids) => {
      const rows = await query(
        'SELECT subscription_id, type, card_brand, card_last4, card_expiry, bank_name, bank_account_masked, '
        + 'bank_routing_number FROM payment_method WHERE tenant_id = $1 AND subscription_id = ANY($2::text[])',
        [tenantId, ids]);
      const byId = new Map(rows.map((row) => {
        const card = row.type === 'CREDIT_CARD';
        return [row.subscription_id, {
          type: row.type, cardBrand: card ? row.card_brand : null, cardLast4: card ? row.card_last4 : null,
          cardExpiry: card ? row.card_expiry : null, bankName: card ? null : row.bank_name,
          bankAccountMasked: card ? null : row.bank_account_masked,
          bankRoutingNumber: card ? null : row.bank_routing_number,
        }];
      }));
      return ids.map((id) => byId.get(id) || null);
    }),
    offerById: new DataLoader(async (ids) => {
      const rows = await query('SELECT * FROM offer WHERE tenant_id = $1 AND id = ANY($2::int[])', [tenantId, ids]);
      const byId = new Map(rows.map((row) => [row.id, offerFromRow(row, currency)]));
      return ids.map((id) => byId.get(id) || null);
    }),
    termsByOfferId: new DataLoader(async (ids) => {
      const rows = await query(
        'SELECT t.* FROM offer_term t JOIN offer o ON o.id = t.offer_id '
        + 'WHERE o.tenant_id = $1 AND t.offer_id = ANY($2::int[]) ORDER BY t.offer_id, t.id', [tenantId, ids]);
      const grouped = groupBy(rows.map((row) => termFromRow(row, currency)), 'offerId');
      return ids.map((id) => grouped.get(String(id)) || []);
    }),
  };
}

const encodeCursor = (offset) => Buffer.from(`o:${offset}`).toString('base64url').padEnd(Math.ceil((`o:${offset}`.length) / 3) * 4, '=');

function decodeCursor(cursor) {
  if (!cursor) return 0;
  const [kind, value] = Buffer.from(cursor, 'base64url').toString().split(':');
  const offset = Number(value);
  if (kind !== 'o' || !Number.isInteger(offset) || offset < 0) throw new Error('`after` is not a valid cursor');
  return offset + 1;
}

function tenantToday(timeZone) {
  // en-CA formats as YYYY-MM-DD
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

const resolvers = {
  Query: {
    registration: (_, { crid }, { loaders }) => loaders.registrationByCrid.load(crid),
    catalog: async (_, args, { tenant, loaders }) => {
      const offset = decodeCursor(args.after);
      const limit = args.first ?? 10;
      if (limit < 0 || limit > 100) throw new Error('`first` must be between 0 and 100');
      const values = [tenant.id, tenantToday(tenant.time_zone)];
      let where = 'tenant_id = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2)';
      if (args.category != null) { values.push(args.category.trim().toLowerCase()); where += ` AND lower(category) = $${values.length}`; }
      if (args.vendor != null) { values.push(args.vendor.trim().toLowerCase()); where += ` AND lower(vendor) = $${values.length}`; }
      if (args.trialAvailable != null) { values.push(args.trialAvailable); where += ` AND trial_available = $${values.length}`; }
      values.push(offset, limit);
      const rows = await query(
        `SELECT *, count(*) OVER () AS total FROM offer WHERE ${where} ORDER BY id OFFSET $${values.length - 1} LIMIT $${values.length}`,
        values);
      const offers = rows.map((row) => offerFromRow(row, tenant.currency));
      for (const offer of offers) loaders.offerById.prime(offer.offerId, offer);
      const terms = await loaders.termsByOfferId.loadMany(offers.map((offer) => offer.offerId));
      const total = rows.length ? Number(rows[0].total) : (offset === 0 ? 0 : null);
      const edges = offers.map((offer, i) => ({
        cursor: encodeCursor(offset + i),
        node: {
          offerId: offer.id, vendor: offer.vendor, logoUrl: offer.logoUrl, name: offer.name,
          shortDescription: offer.shortDescription, category: offer.category, trialAvailable: offer.trialAvailable,
          lowestCommercialPrice: lowestPrice(terms[i]), offer,
        },
      }));
      return {
        edges, nodes: edges.map((e) => e.node), totalCount: total,
        pageInfo: {
          hasNextPage: total !== null && offset + edges.length < total, hasPreviousPage: offset > 0,
          startCursor: edges.length ? edges[0].cursor : null, endCursor: edges.length ? edges[edges.length - 1].cursor : null,
        },
      };
    },
  },
  Registration: {
    registrationId: (row) => String(row.id),
    firstName: (row) => row.first_name,
    lastName: (row) => row.last_name,
    // USR-1: third-party identity providers always report STANDARD; MG2: LITE, then UNVERIFIED
    state: (row, _, { tenant }) => {
      if ((tenant.user_provider || '').trim().toUpperCase() !== 'MG2') return 'STANDARD';
      if (!row.has_password) return 'LITE';
      return row.email_verified ? 'STANDARD' : 'UNVERIFIED';
    },
    linkedSubscriptions: async (row, { role }, { loaders }) => {
      const links = await loaders.linksByRegistrationId.load(row.id);
      const ids = links.filter((link) => role == null || link.role === role).map((link) => link.subscription_id);
      const subscriptions = await loaders.subscriptionById.loadMany(ids);
      return subscriptions.filter((s) => s !== null && !(s instanceof Error));
    },
  },
  CustomerSubscription: {
    householdLevel: (s, _, { loaders }) => (s.householdLevelId == null ? null : loaders.householdLevelById.load(s.householdLevelId)),
    paymentMethod: (s, _, { loaders }) => loaders.paymentMethodBySubscriptionId.load(s.id),
    billingOptions: (s, _, { loaders }) => loaders.billingOptionsBySubscriptionId.load(s.id),
    offer: (s, _, { loaders }) => (s.offerId == null ? null : loaders.offerById.load(s.offerId)),
  },
  Offer: {
    terms: (offer, _, { loaders }) => loaders.termsByOfferId.load(offer.offerId),
    lowestCommercialPrice: async (offer, _, { loaders }) => lowestPrice(await loaders.termsByOfferId.load(offer.offerId)),
  },
};

function isLoopback(address) {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

async function startWorker() {
  db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: DB_POOL });
  // dates stay ISO strings (as papergraph's Date scalar prints them), numerics exact strings
  pg.types.setTypeParser(1082, (value) => value);
  circulation = new UndiciPool(CIRCULATION, { connections: UPSTREAM_CONNECTIONS, pipelining: 1, keepAliveTimeout: 30_000 });

  const server = new ApolloServer({ typeDefs, resolvers, introspection: false, includeStacktraceInErrorResponses: false });
  await server.start();

  const httpServer = http.createServer((req, res) => {
    if (req.url === '/_debug/stats') {
      if (!isLoopback(req.socket.remoteAddress)) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pid: process.pid, ...stats }));
      return;
    }
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      try {
        stats.graphqlRequests += 1;
        const headers = new HeaderMap();
        for (const [key, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        const body = raw && (headers.get('content-type') || '').startsWith('application/json') ? JSON.parse(raw) : raw;
        const url = new URL(req.url, 'http://localhost');
        const result = await server.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method.toUpperCase(), headers, search: url.search, body },
          context: async () => {
            const tenant = await tenantByCode(headers.get('x-tenant') || 'NCSDEMO');
            if (!tenant) throw new Error('Unknown tenant');
            return { tenant, loaders: createLoaders(tenant) };
          },
        });
        for (const [key, value] of result.headers) res.setHeader(key, value);
        res.statusCode = result.status || 200;
        if (result.body.kind === 'complete') { res.end(result.body.string); return; }
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      } catch (error) {
        res.statusCode = 400;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ errors: [{ message: String(error.message || error) }] }));
      }
    });
  });
  httpServer.keepAliveTimeout = 65_000;
  httpServer.listen(PORT, '127.0.0.1');
  const stop = async () => {
    httpServer.close();
    await server.stop();
    await circulation.close();
    await db.end();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (cluster.isPrimary && WORKERS > 1) {
  for (let i = 0; i < WORKERS; i += 1) cluster.fork();
  let stopping = false;
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  cluster.on('exit', () => {
    if (stopping && Object.keys(cluster.workers).length === 0) process.exit(0);
  });
} else {
  startWorker().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
