// The Apollo Server 5 peer of papergraph's benchmark (bench/): the subscriber dashboard and the catalog,
// with papergraph's schema shape, over the same circulation emulator and the same PostgreSQL data.
//
// Written the way Apollo's own guidance says a fast subgraph is written, so the ratio papergraph reports
// against it means something: one DataLoader set per request (batching, per-request cache), a keep-alive
// undici pool to the upstream, a pg pool with prepared (named) statements, cached parse/validate (Apollo's
// default document store), the cache-control plugin disabled (papergraph has no equivalent), and a plain
// node:http server calling `executeHTTPGraphQLRequest` (no framework in front). `node cluster` runs as many
// processes as papergraph has uvicorn workers (PEER_WORKERS).
//
// It does the same work papergraph does for the same request (issue 18): the bearer token verified with
// `jose` (RS256 only) against the same JWKS, verified tokens remembered until they expire (at most 5 min,
// forgotten when the key set changes: auth/tokens.py); the principal and tenant from the token's claims, a
// foreign X-Tenant refused with 403 (TEN-1), a token older than the customer's last sign-out refused with
// 401 (SSN-4, the date remembered 5 s per customer: auth/sessions.py), a LITE/UNVERIFIED registration refused
// with 401 (USR-8); and the same field rules as auth/permissions.py on `registration`, `Registration.crid`
// and `.state` (LNK-4), `linkedSubscriptions`, `paymentMethod` and `billingOptions` (LNK-3), with the same
// FORBIDDEN / UNAUTHENTICATED errors. Staff and partner access is read from the token's claims (no peer
// operation is driven by staff, so papergraph's stored access levels, MGR-1, are not read here).
//
// Environment: PORT, PEER_WORKERS, DATABASE_URL (postgresql://user@host:port/db), CIRCULATION_BASE_URL,
// AUTH0_BASE_URL (issuer `<base>/`, JWKS at `<base>/.well-known/jwks.json`), AUTH0_AUDIENCE,
// PEER_DB_POOL (default 10, papergraph's pool size), PEER_UPSTREAM_CONNECTIONS (default 100, likewise).
// `GET /_debug/stats` (loopback only) answers this process's counters, so the bench can count SQL
// statements and upstream calls per request exactly as it does for papergraph.

import cluster from 'node:cluster';
import http from 'node:http';
import process from 'node:process';

import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { errors as joseErrors } from 'jose';
import pg from 'pg';
import { Pool as UndiciPool } from 'undici';

const PORT = Number(process.env.PORT || 8300);
const WORKERS = Math.max(1, Number(process.env.PEER_WORKERS || 1));
const DB_POOL = Number(process.env.PEER_DB_POOL || 10);
const UPSTREAM_CONNECTIONS = Number(process.env.PEER_UPSTREAM_CONNECTIONS || 100);
const CIRCULATION = process.env.CIRCULATION_BASE_URL || 'http://127.0.0.1:8101';
const AUTH0 = (process.env.AUTH0_BASE_URL || 'http://127.0.0.1:8102').replace(/\/+$/, '');
const AUDIENCE = process.env.AUTH0_AUDIENCE || 'https://api.papergraph.dev';
const TOKEN_LEEWAY_S = 30; // PAPERGRAPH_TOKEN_LEEWAY_SECONDS' default
const JWKS_REFETCH_INTERVAL_MS = 30_000; // PAPERGRAPH_JWKS_REFETCH_INTERVAL's default
const JWKS_MAX_AGE_MS = 3_600_000;
const VERIFIED_CACHE_SIZE = 4096; // auth/tokens.py
const VERIFIED_CACHE_S = 300;
const MAX_TOKEN_LENGTH = 8192;
const SESSION_CACHE_MS = 5000; // auth/sessions.py
const SESSION_CACHE_SIZE = 10_000;
const CLAIM = 'https://papergraph.dev/';
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
const stats = { sqlQueries: 0, upstreamCalls: 0, graphqlRequests: 0, tokenVerifications: 0 };
let db;
let circulation;
let auth0;
const tenants = new Map(); // code -> { at, tenant }

// Prepared statements, as papergraph's asyncpg reads are: node-postgres prepares a named query once per
// connection and then only binds and executes it. One name per distinct text.
const statementNames = new Map();
function query(text, values) {
  stats.sqlQueries += 1;
  let name = statementNames.get(text);
  if (name === undefined) statementNames.set(text, (name = `peer_${statementNames.size}`));
  return db.query({ name, text, values }).then((result) => result.rows);
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
        // HHL-3: a blank description labels the level by its id alone (domain/households.py level_label)
        label: (row.description || '').trim() ? `${row.level_id} - ${(row.description || '').trim()}` : String(row.level_id),
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

const dayFormats = new Map(); // time zone -> Intl.DateTimeFormat, built once per process
function tenantToday(timeZone) {
  let format = dayFormats.get(timeZone);
  if (format === undefined) {
    // en-CA formats as YYYY-MM-DD
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, format);
  }
  return format.format(new Date());
}

// -- authentication (auth/middleware.py, auth/tokens.py, auth/principals.py, auth/sessions.py) ------------
class Refusal extends Error {
  constructor(status, message, code, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}
const unauthorized = (error, description) => new Refusal(401, description, 'UNAUTHENTICATED', {
  'www-authenticate': `Bearer realm="papergraph", error="${error}", error_description="${description.replace(/\\/g, '\\\\').replace(/"/g, "'")}"`,
});

// The identity provider's keys: fetched on first use and after an hour; a token naming an unknown `kid`
// triggers one refetch, at most one per JWKS_REFETCH_INTERVAL_MS (a flood of forged tokens costs one fetch).
const jwks = { keySet: null, kids: new Set(), fetchedAt: -Infinity, unknownKidAt: -Infinity, generation: 0, pending: null };

async function refreshJwks() {
  if (!jwks.pending) {
    jwks.pending = (async () => {
      try {
        const { statusCode, body } = await auth0.request({ method: 'GET', path: '/.well-known/jwks.json',
          headers: { accept: 'application/json' }, headersTimeout: UPSTREAM_TIMEOUT_MS, bodyTimeout: UPSTREAM_TIMEOUT_MS });
        if (statusCode >= 400) { await body.dump(); throw new Refusal(503, "The identity provider's keys cannot be read now; try again shortly", 'UPSTREAM_UNAVAILABLE', { 'retry-after': '5' }); }
        const document = await body.json();
        const keys = (document.keys || []).filter((k) => k.kty === 'RSA' && (k.use || 'sig') === 'sig');
        jwks.keySet = createLocalJWKSet({ keys });
        jwks.kids = new Set(keys.filter((k) => k.kid).map((k) => k.kid));
        jwks.fetchedAt = Date.now();
        jwks.generation += 1;
      } finally {
        jwks.pending = null;
      }
    })();
  }
  return jwks.pending;
}

async function keySetFor(kid) {
  const now = Date.now();
  if (jwks.keySet === null || now - jwks.fetchedAt >= JWKS_MAX_AGE_MS) await refreshJwks();
  else if (!jwks.kids.has(kid) && now - jwks.unknownKidAt >= JWKS_REFETCH_INTERVAL_MS) {
    jwks.unknownKidAt = now;
    await refreshJwks();
  }
  if (!jwks.kids.has(kid)) throw unauthorized('invalid_token', 'The access token is not valid: unknown signing key');
  return jwks.keySet;
}

const verified = new Map(); // token -> { until (ms), claims }; insertion order is age (the oldest go first)
let verifiedGeneration = -1;

async function verifyToken(token) {
  if (verifiedGeneration !== jwks.generation) { verified.clear(); verifiedGeneration = jwks.generation; }
  const remembered = verified.get(token);
  if (remembered !== undefined) {
    if (Date.now() < remembered.until) return remembered.claims;
    verified.delete(token);
  }
  stats.tokenVerifications += 1;
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw unauthorized('invalid_token', 'The access token is not valid: malformed token');
  }
  if (header.alg !== 'RS256') throw unauthorized('invalid_token', 'The access token is not valid: unsupported algorithm');
  if (typeof header.kid !== 'string' || !header.kid) throw unauthorized('invalid_token', 'The access token is not valid: unknown signing key');
  const keySet = await keySetFor(header.kid);
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, keySet, {
      algorithms: ['RS256'], issuer: `${AUTH0}/`, audience: AUDIENCE, clockTolerance: TOKEN_LEEWAY_S,
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) throw unauthorized('invalid_token', `The access token is not valid: ${error.code}`);
    throw error;
  }
  if (verifiedGeneration !== jwks.generation) { verified.clear(); verifiedGeneration = jwks.generation; }
  if (typeof claims.exp === 'number') {
    verified.set(token, { until: Math.min((claims.exp + TOKEN_LEEWAY_S) * 1000, Date.now() + VERIFIED_CACHE_S * 1000), claims });
    if (verified.size > VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value);
  }
  return claims;
}

const SECTIONS = new Set(['subscriptions', 'registrations', 'payments', 'household_levels', 'entitlements', 'offers', 'settings']);
const RANK = { NO_ACCESS: 0, READ_ONLY: 1, FULL_CONTROL: 2 };
const ANONYMOUS = Object.freeze({ kind: 'anonymous', tenant: null, subject: null, crid: null, access: {}, scopes: new Set() });

function principalFromClaims(claims) {
  const shape = (name, test, what) => {
    const value = claims[name];
    if (value != null && !test(value)) throw unauthorized('invalid_token', `The access token is not valid: the \`${name}\` claim must be ${what}`);
    return value;
  };
  const isString = (v) => typeof v === 'string';
  const tenant = shape(`${CLAIM}tenant`, isString, 'a string');
  const kindClaim = shape(`${CLAIM}principal`, isString, 'a string');
  const subject = shape('sub', isString, 'a string') || '';
  const scopes = new Set((shape('scope', isString, 'a space-separated string') || '').split(/\s+/).filter(Boolean));
  const machine = claims.gty === 'client-credentials' || subject.endsWith('@clients');
  const kind = machine ? 'partner' : kindClaim === 'staff' ? 'staff' : 'customer';
  const access = {};
  if (kind === 'staff') {
    const levels = shape(`${CLAIM}access`, (v) => typeof v === 'object' && !Array.isArray(v), 'an object mapping each section to an access level') || {};
    for (const [section, level] of Object.entries(levels)) {
      if (!isString(level)) throw unauthorized('invalid_token', `The access token is not valid: the \`${CLAIM}access\` claim must map each section to a level name`);
      if (SECTIONS.has(section) && level in RANK) access[section] = level;
    }
  }
  return { kind, tenant: tenant || null, subject, crid: kind === 'customer' ? subject : null, access, scopes };
}

// SSN-4: the registration's last sign-out, remembered SESSION_CACHE_MS per (tenant, CRID)
const lastLogouts = new Map();
async function issuedBeforeLogout(principal, claims) {
  if (principal.kind !== 'customer' || !principal.tenant || !principal.subject) return false;
  const key = `${principal.tenant}\u0000${principal.subject}`;
  const now = Date.now();
  let cached = lastLogouts.get(key);
  if (cached === undefined || now - cached.at >= SESSION_CACHE_MS) {
    const rows = await query('SELECT r.last_logout_at FROM registration r JOIN tenant t ON t.id = r.tenant_id '
      + 'WHERE t.code = $1 AND r.crid = $2', [principal.tenant, principal.subject]);
    lastLogouts.delete(key);
    lastLogouts.set(key, (cached = { at: now, lastLogout: rows.length ? rows[0].last_logout_at : null }));
    if (lastLogouts.size > SESSION_CACHE_SIZE) lastLogouts.delete(lastLogouts.keys().next().value);
  }
  if (cached.lastLogout == null) return false;
  return typeof claims.iat !== 'number' || claims.iat * 1000 < cached.lastLogout.getTime();
}

// auth/middleware.py: the principal and the tenant code, or a Refusal answered before GraphQL runs
async function authenticate(headers) {
  const authorization = headers.get('authorization');
  const requestedTenant = (headers.get('x-tenant') || '').trim() || null;
  if (authorization === undefined || authorization === null) return { principal: ANONYMOUS, tenantCode: requestedTenant };
  const trimmed = authorization.trim();
  const space = trimmed.indexOf(' ');
  const scheme = space < 0 ? trimmed : trimmed.slice(0, space);
  const token = space < 0 ? '' : trimmed.slice(space + 1).trim();
  if (scheme.toLowerCase() !== 'bearer' || !token) throw unauthorized('invalid_request', 'Use the Bearer scheme: Authorization: Bearer <access token>');
  if (token.length > MAX_TOKEN_LENGTH) throw unauthorized('invalid_token', 'The access token is too long');
  const claims = await verifyToken(token);
  const principal = principalFromClaims(claims);
  if (!principal.tenant) throw unauthorized('invalid_token', 'The access token names no tenant');
  if (await issuedBeforeLogout(principal, claims)) throw unauthorized('invalid_token', 'The session has ended: sign in again');
  if (requestedTenant !== null && requestedTenant !== principal.tenant) {
    throw new Refusal(403, `This token acts for tenant ${principal.tenant}, not ${requestedTenant}`, 'FORBIDDEN');
  }
  return { principal, tenantCode: principal.tenant };
}

// -- field rules (auth/permissions.py): any one rule allows; decided without awaiting when it can -------
const registrationState = (row, tenant) => {
  if ((tenant.user_provider || '').trim().toUpperCase() !== 'MG2') return 'STANDARD';
  if (!row.has_password) return 'LITE';
  return row.email_verified ? 'STANDARD' : 'UNVERIFIED';
};
const text = (value) => (value == null || String(value).trim() === '' ? null : String(value).trim());

async function customerRegistration(context) {
  return context.principal.kind === 'customer' && context.principal.crid
    ? context.loaders.registrationByCrid.load(context.principal.crid) : null;
}

async function customerLinkRoles(context) {
  if (context.linkRoles === undefined) {
    context.linkRoles = (async () => {
      const registration = await customerRegistration(context);
      const links = registration === null ? [] : await context.loaders.linksByRegistrationId.load(registration.id);
      return new Map(links.map((link) => [String(link.subscription_id), link.role]));
    })();
  }
  return context.linkRoles;
}

const staffRead = (section) => ({
  description: `staff with READ_ONLY access to ${section}`,
  allows: (context) => context.principal.kind === 'staff' && (RANK[context.principal.access[section]] || 0) >= RANK.READ_ONLY,
});
const partnerRead = (section) => ({
  description: `a partner with scope read:${section}`,
  allows: (context) => context.principal.kind === 'partner'
    && (context.principal.scopes.has(`write:${section}`) || context.principal.scopes.has(`read:${section}`)),
});
const reads = (section) => [staffRead(section), partnerRead(section)];
// CustomerRule: a customer only, and never a LITE or UNVERIFIED registration (USR-8)
const customerRule = (description, decide) => ({
  description,
  allows: (context, source, args) => {
    if (context.principal.kind !== 'customer') return false;
    return (async () => {
      const registration = await customerRegistration(context);
      if (registration && ['LITE', 'UNVERIFIED'].includes(registrationState(registration, context.tenant))) {
        throw new GraphQLError('This registration cannot sign in until it is verified and has a password (USR-8)',
          { extensions: { code: 'FORBIDDEN', reason: 'REGISTRATION_NOT_VERIFIED' } });
      }
      return decide(context, source, args);
    })();
  },
});
const customerSelf = (crid) => customerRule('the customer it belongs to',
  (context, source, args) => text(crid(source, args)) === context.principal.crid);
const customerLinked = (subscription) => customerRule('a customer linked to the subscription', async (context, source, args) => {
  const id = text(subscription(source, args));
  if (id === null) return false;
  const role = (await customerLinkRoles(context)).get(id);
  return role === 'OWNER' || role === 'GUEST';
});
const STAFF_OR_PARTNER = { description: 'staff or a partner', allows: (context) => context.principal.kind === 'staff' || context.principal.kind === 'partner' };
const createdInRequest = () => ({ description: 'the request that created it', allows: () => false }); // no mutation here
const registrationData = (crid) => [STAFF_OR_PARTNER, customerSelf(crid), createdInRequest()];

function denial(context, rules, what) {
  const needs = [...new Set(rules.map((rule) => rule.description))].join('; ');
  if (context.principal.kind === 'anonymous') {
    return new GraphQLError(`Sign in: \`${what}\` is for ${needs}`, { extensions: { code: 'UNAUTHENTICATED' } });
  }
  return new GraphQLError(`Not allowed: \`${what}\` is for ${needs}`, { extensions: { code: 'FORBIDDEN' } });
}

// A resolver behind `rules`: called at once when a rule allows without reading, else after the decision.
function guard(rules, resolve) {
  rules = rules.flat();
  return (source, args, context, info) => {
    for (let i = 0; i < rules.length; i += 1) {
      const allowed = rules[i].allows(context, source, args);
      if (allowed instanceof Promise) {
        return (async () => {
          let ok = await allowed;
          for (let j = i + 1; !ok && j < rules.length; j += 1) ok = await rules[j].allows(context, source, args);
          if (!ok) throw denial(context, rules, info.fieldName);
          return resolve(source, args, context, info);
        })();
      }
      if (allowed) return resolve(source, args, context, info);
    }
    throw denial(context, rules, info.fieldName);
  };
}
const argument = (name) => (source, args) => args[name];
const parentField = (name) => (source) => source[name];

const resolvers = {
  Query: {
    registration: guard([reads('registrations'), customerSelf(argument('crid'))],
      (_, { crid }, { loaders }) => loaders.registrationByCrid.load(crid)),
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
    crid: guard(registrationData(parentField('crid')), (row) => row.crid),
    registrationId: guard(registrationData(parentField('crid')), (row) => String(row.id)),
    firstName: (row) => row.first_name,
    lastName: (row) => row.last_name,
    // USR-1: third-party identity providers always report STANDARD; MG2: LITE, then UNVERIFIED
    state: guard(registrationData(parentField('crid')), (row, _, { tenant }) => registrationState(row, tenant)),
    linkedSubscriptions: guard([reads('subscriptions'), customerSelf(parentField('crid'))], async (row, { role }, { loaders }) => {
      const links = await loaders.linksByRegistrationId.load(row.id);
      const ids = links.filter((link) => role == null || link.role === role).map((link) => link.subscription_id);
      const subscriptions = await loaders.subscriptionById.loadMany(ids);
      return subscriptions.filter((s) => s !== null && !(s instanceof Error));
    }),
  },
  CustomerSubscription: {
    householdLevel: (s, _, { loaders }) => (s.householdLevelId == null ? null : loaders.householdLevelById.load(s.householdLevelId)),
    paymentMethod: guard([reads('payments'), customerLinked(parentField('id'))],
      (s, _, { loaders }) => loaders.paymentMethodBySubscriptionId.load(s.id)),
    billingOptions: guard([reads('subscriptions'), reads('payments'), customerLinked(parentField('id'))],
      (s, _, { loaders }) => loaders.billingOptionsBySubscriptionId.load(s.id)),
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
  auth0 = new UndiciPool(AUTH0, { connections: 4, pipelining: 1, keepAliveTimeout: 30_000 });

  const server = new ApolloServer({
    typeDefs, resolvers, introspection: false, includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginCacheControlDisabled()],
  });
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
        let context;
        try {
          // before GraphQL runs, as papergraph's Authenticate middleware and get_context
          const { principal, tenantCode } = await authenticate(headers);
          const tenant = await tenantByCode(tenantCode || 'NCSDEMO');
          if (!tenant) throw new Refusal(400, `Unknown tenant '${tenantCode}'`, 'BAD_REQUEST');
          context = { tenant, principal, loaders: createLoaders(tenant), linkRoles: undefined };
          const registration = await customerRegistration(context);
          if (registration && !(registration.has_password && registration.email_verified)) {
            const message = 'This registration cannot sign in until its e-mail address is verified and it has a password (USR-8)';
            throw new Refusal(401, message, 'UNAUTHENTICATED', {
              'www-authenticate': `Bearer realm="papergraph", error="invalid_token", error_description="${message}"`,
            });
          }
        } catch (error) {
          if (!(error instanceof Refusal)) throw error;
          res.writeHead(error.status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...error.headers });
          res.end(JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code } }] }));
          return;
        }
        const result = await server.executeHTTPGraphQLRequest({
          httpGraphQLRequest: { method: req.method.toUpperCase(), headers, search: url.search, body },
          context: async () => context,
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
