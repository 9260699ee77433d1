// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-00, which the MCP
// authorization spec 2025-11-25 uses): a client whose client_id is an https URL publishes its
// registration at that URL, and we fetch, check and cache it instead of storing one (§3, §4).
// An unauthenticated caller chooses the URL we request, so the fetch goes only to allowlisted
// hosts at public addresses (§6.5), is bounded in size (§6.6) and time, and follows nothing.
import dns from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { type Clock, DAY, MINUTE, SECOND } from '../core/clock.ts';
import type { Logger } from '../core/context.ts';
import { TtlCache } from '../core/ttl-cache.ts';
import { checkDynamicRegistration } from './registration-policy.ts';

export interface ClientMetadataConfig {
  /** Hosts whose documents may be fetched: exact host names, or `*.example.com` for subdomains. Empty: no fetching (pinned documents only). */
  readonly allowedHosts: readonly string[];
  /** Documents used instead of fetching, by client_id URL (air-gapped installs, well-known clients). */
  readonly pinned: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** Development only: http URLs and loopback/private addresses allowed (a test serving a document on 127.0.0.1). */
  readonly allowInsecure: boolean;
}

/** Client metadata as oidc-provider takes it: RFC 7591 §2 names, snake_case. */
export type ClientMetadata = Record<string, unknown>;

export interface ClientMetadataResolver {
  /** Whether this client_id is a CIMD URL (§3: https, a path, no fragment, no user info, no dot segments; http too when allowInsecure). Pure, no I/O. */
  isDocumentUrl(clientId: string): boolean;
  /** The validated client metadata for oidc-provider, or undefined when it cannot be used; never throws for a bad document (it logs why at info). */
  resolve(clientId: string): Promise<ClientMetadata | undefined>;
}

/** What a fetcher hands back: the body of a 200 JSON response and the headers that say how long to keep it. */
export interface FetchedDocument {
  readonly body: string;
  readonly cacheControl: string | undefined;
  readonly expires: string | undefined;
  readonly date: string | undefined;
}

/** Fetches a document or throws an Error saying why not (its message is logged, so it must not quote the body). */
export type DocumentFetcher = (url: URL) => Promise<FetchedDocument>;

export interface DocumentFetcherOptions {
  /** Skip the address guard and allow http (ClientMetadataConfig.allowInsecure). */
  readonly allowInsecure: boolean;
  /** Total time for connection, headers and body; 5 s unless a test needs it shorter. */
  readonly timeoutMs?: number;
}

const FETCH_TIMEOUT_MS = 5 * SECOND;
// §6.6 recommends 5 KB; documents with long contact lists and many redirect URIs exist, and
// 64 KiB still bounds what one request can make us hold.
const MAX_DOCUMENT_BYTES = 64 * 1024;
// Cache lifetimes (§4.4 lets us bound what the headers ask for): the floor stops a client that
// says max-age=0 from making every authorization request a fetch; the ceiling lets a changed
// document (new redirect URIs, a revoked client) take effect within a day.
const MIN_CACHE_MS = 5 * MINUTE;
const MAX_CACHE_MS = DAY;
// §4.4 says not to cache error responses, and we do not keep a failed document as a client;
// what we keep for a minute is the refusal itself, so a flood of requests naming a broken URL
// makes one fetch a minute. A fixed document is picked up at most a minute late.
const FAILURE_CACHE_MS = MINUTE;
const CACHE_ENTRIES = 1000;
// Bounds cache keys and log lines; no client needs a longer identifier.
const MAX_CLIENT_ID_LENGTH = 2048;
const MAX_REASON_LENGTH = 200;

const STRING_FIELDS = [
  'client_name',
  'client_uri',
  'logo_uri',
  'tos_uri',
  'policy_uri',
  'scope',
  'software_id',
  'software_version',
  'application_type',
] as const;
const STRING_LIST_FIELDS = ['redirect_uris', 'grant_types', 'response_types', 'contacts'] as const;

/** Why a document cannot be used; the message is ours, never text from the document. */
class DocumentRefused extends Error {
  override name = 'DocumentRefused';
}

/** Stands in for oidc-provider's InvalidClientMetadata and InvalidRedirectUri, which the policy throws. */
class PolicyRefused extends DocumentRefused {
  constructor(description: string) {
    super(`registration policy: ${description}`);
  }
}

// The policy only constructs these with a description and throws them; we catch them here, so
// the library's own fields (status, expose, …) are never read. Importing oidc-provider for its
// classes would load the whole library into this module and warn at runtime on Node 20.
const POLICY_ERRORS = {
  InvalidClientMetadata: PolicyRefused,
  InvalidRedirectUri: PolicyRefused,
} as unknown as Parameters<typeof checkDynamicRegistration>[0];

export function createClientMetadataResolver(deps: {
  config: ClientMetadataConfig;
  clock: Clock;
  log: Logger;
  fetchDocument?: DocumentFetcher;
}): ClientMetadataResolver {
  const { config, clock, log } = deps;
  const fetchDocument = deps.fetchDocument ?? createDocumentFetcher({ allowInsecure: config.allowInsecure });
  const hostAllowed = matchAllowedHosts(config.allowedHosts);
  const pinned = checkPinnedDocuments(config, log);
  const documents = new TtlCache<ClientMetadata>({ maxEntries: CACHE_ENTRIES });
  // Apart from the documents, so that a flood of broken URLs cannot evict the ones that work.
  const failures = new TtlCache<true>({ maxEntries: CACHE_ENTRIES });
  const inFlight = new Map<string, Promise<ClientMetadata | undefined>>();

  function refuse(clientId: string, reason: string): undefined {
    log.info({ clientId: truncate(clientId), reason: truncate(reason) }, 'client metadata document refused');
    return undefined;
  }

  async function fetchAndCheck(clientId: string): Promise<ClientMetadata | undefined> {
    const ticket = documents.ticket();
    try {
      const fetched = await fetchDocument(new URL(clientId));
      const metadata = toClientMetadata(clientId, parseJson(fetched.body));
      const now = clock.now();
      const lifetime = cacheLifetime(fetched, now);
      if (lifetime !== undefined) documents.set(clientId, metadata, now + lifetime, [], ticket, now);
      return metadata;
    } catch (error) {
      const now = clock.now();
      failures.set(clientId, true, now + FAILURE_CACHE_MS, [], failures.ticket(), now);
      return refuse(clientId, reasonOf(error));
    }
  }

  return {
    isDocumentUrl: (clientId) => documentUrlProblem(clientId, config.allowInsecure) === undefined,

    async resolve(clientId) {
      const problem = documentUrlProblem(clientId, config.allowInsecure);
      if (problem !== undefined) return refuse(clientId, `not a client identifier URL: ${problem}`);
      if (pinned.has(clientId)) {
        const metadata = pinned.get(clientId);
        // Copies, here and below: oidc-provider may add defaults to what it is given.
        return metadata ? structuredClone(metadata) : refuse(clientId, 'the pinned document was refused');
      }
      const { hostname } = new URL(clientId);
      if (!hostAllowed(hostname)) return refuse(clientId, `host ${hostname} is not on the allowlist`);

      const now = clock.now();
      const cached = documents.get(clientId, now);
      if (cached) return structuredClone(cached);
      if (failures.get(clientId, now)) return undefined;
      let pending = inFlight.get(clientId);
      if (!pending) {
        pending = fetchAndCheck(clientId).finally(() => inFlight.delete(clientId));
        inFlight.set(clientId, pending);
      }
      const metadata = await pending;
      return metadata && structuredClone(metadata);
    },
  };
}

/**
 * The fetch of §4 with the defences of §6.5 and §6.6: a GET with `Accept: application/json`
 * and nothing else (no cookies, no credentials), over a fresh connection, to a public address,
 * at most 64 KiB within the timeout; anything but a 200 JSON response — a redirect too — fails.
 */
export function createDocumentFetcher(options: DocumentFetcherOptions): DocumentFetcher {
  const timeoutMs = options.timeoutMs ?? FETCH_TIMEOUT_MS;
  const guarded = !options.allowInsecure;
  return async (url) => {
    if (guarded) refuseUnsafeTarget(url);
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const response = await sendGet(url, signal, guarded);
      try {
        return await readDocument(response);
      } finally {
        response.destroy();
      }
    } catch (error) {
      if (signal.aborted) throw new DocumentRefused(`no complete response within ${timeoutMs} ms`);
      throw error;
    }
  };
}

/** Why `clientId` is not a client identifier URL (§3), or undefined when it is one. */
function documentUrlProblem(clientId: string, allowInsecure: boolean): string | undefined {
  if (clientId.length > MAX_CLIENT_ID_LENGTH) return `longer than ${MAX_CLIENT_ID_LENGTH} characters`;
  const url = URL.parse(clientId);
  if (url === null) return 'not a URL';
  if (url.protocol !== 'https:' && !(allowInsecure && url.protocol === 'http:')) return 'not https';
  if (url.username !== '' || url.password !== '') return 'has a username or password';
  if (clientId.includes('#')) return 'has a fragment';
  // The parser removes dot segments, gives a bare origin the path `/`, lower-cases the host and
  // drops a default port. Taking only URLs already in that form means the string the client
  // sent, the URL we fetch and the client_id the document must hold (§4.1) are one string.
  if (url.href !== clientId)
    return 'not in canonical form (a dot segment, no path, an upper-case host or a default port)';
  return undefined;
}

/** Exact host names, and `*.example.com` for any subdomain of example.com (not example.com itself). */
function matchAllowedHosts(allowedHosts: readonly string[]): (hostname: string) => boolean {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of allowedHosts.map((host) => host.trim().toLowerCase())) {
    if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
    else exact.add(entry);
  }
  return (hostname) => exact.has(hostname) || suffixes.some((suffix) => hostname.endsWith(suffix));
}

/** Pinned documents are configuration: checked once, and a bad one is refused loudly at start-up. */
function checkPinnedDocuments(
  config: ClientMetadataConfig,
  log: Logger,
): Map<string, ClientMetadata | undefined> {
  const checked = new Map<string, ClientMetadata | undefined>();
  for (const [clientId, document] of config.pinned) {
    try {
      const problem = documentUrlProblem(clientId, config.allowInsecure);
      if (problem !== undefined) throw new DocumentRefused(`not a client identifier URL: ${problem}`);
      checked.set(clientId, toClientMetadata(clientId, document));
    } catch (error) {
      log.warn(
        { clientId: truncate(clientId), reason: reasonOf(error) },
        'pinned client metadata document refused',
      );
      checked.set(clientId, undefined);
    }
  }
  return checked;
}

/** §4.1 and Gatehouse's registration policy; returns only the fields oidc-provider should see. */
function toClientMetadata(clientId: string, document: unknown): ClientMetadata {
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new DocumentRefused('not a JSON object');
  const fields = document as Record<string, unknown>;
  if (fields.client_id !== clientId) throw new DocumentRefused('client_id does not equal the document URL');
  if (!isStringList(fields.redirect_uris) || fields.redirect_uris.length === 0)
    throw new DocumentRefused('redirect_uris must be a non-empty array of strings');
  // §4.1: no secret can be shared through a public document.
  if (Object.hasOwn(fields, 'client_secret') || Object.hasOwn(fields, 'client_secret_expires_at'))
    throw new DocumentRefused('a document must not carry client_secret or client_secret_expires_at');
  // §6.2 also lets a document publish keys and use private_key_jwt. Out of scope: these clients
  // are public, like dynamically registered ones, so jwks, jwks_uri and key changes (§6.3) are
  // not handled, and such a document is refused rather than quietly made public.
  const method = fields.token_endpoint_auth_method;
  if (method !== undefined && method !== 'none')
    throw new DocumentRefused('token_endpoint_auth_method must be none or absent');

  const metadata: ClientMetadata = { client_id: clientId };
  for (const field of STRING_FIELDS) {
    const value = fields[field];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new DocumentRefused(`${field} must be a string`);
    metadata[field] = value;
  }
  for (const field of STRING_LIST_FIELDS) {
    const value = fields[field];
    if (value === undefined) continue;
    if (!isStringList(value)) throw new DocumentRefused(`${field} must be an array of strings`);
    metadata[field] = [...value];
  }
  metadata.token_endpoint_auth_method = 'none';
  checkDynamicRegistration(POLICY_ERRORS, metadata);
  metadata.gatehouse_registration = 'metadata_document';
  return metadata;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    // Not the parser's message: V8 quotes the text it choked on, and that would reach the log.
    throw new DocumentRefused('body is not valid JSON');
  }
}

/** How long a document may be used (RFC 9111 §4.2.1, clamped), or undefined when it must not be stored. */
function cacheLifetime(fetched: FetchedDocument, now: number): number | undefined {
  const directives = parseCacheControl(fetched.cacheControl);
  if (directives.has('no-store')) return undefined;
  return Math.min(MAX_CACHE_MS, Math.max(MIN_CACHE_MS, declaredLifetime(directives, fetched, now)));
}

function declaredLifetime(directives: Map<string, string>, fetched: FetchedDocument, now: number): number {
  // no-cache asks for revalidation on every use, which we do not do: the shortest lifetime instead.
  if (directives.has('no-cache')) return 0;
  const maxAge = directives.get('max-age');
  if (maxAge !== undefined) return /^\d+$/.test(maxAge) ? Number(maxAge) * SECOND : 0;
  if (fetched.expires === undefined) return 0;
  const expires = Date.parse(fetched.expires);
  const date = fetched.date === undefined ? Number.NaN : Date.parse(fetched.date);
  // Expires is measured against the server's own Date (§4.2.1), which spares us its clock skew.
  return Number.isNaN(expires) ? 0 : expires - (Number.isNaN(date) ? now : date);
}

function parseCacheControl(header: string | undefined): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of (header ?? '').split(',')) {
    const [name = '', value = ''] = part.split('=', 2);
    const key = name.trim().toLowerCase();
    if (key !== '' && !directives.has(key)) directives.set(key, value.trim().replace(/^"(.*)"$/, '$1'));
  }
  return directives;
}

/** Node connects to an IP-literal host without calling `lookup`, so literals are judged here. */
function refuseUnsafeTarget(url: URL): void {
  if (url.protocol !== 'https:') throw new DocumentRefused('only https URLs are fetched');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) !== 0 && !isPublicAddress(host))
    throw new DocumentRefused(`${host} is not a public address`);
}

/**
 * Resolves the host and refuses it when any of its addresses is not public; the socket then
 * connects to the address judged here, so a second answer (DNS rebinding) never gets a say.
 */
const lookupPublicAddress: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const first = addresses[0];
    const refused = addresses.find((entry) => !isPublicAddress(entry.address));
    if (first === undefined || refused !== undefined)
      return callback(
        new DocumentRefused(`${hostname} resolves to ${refused?.address ?? 'nothing'}, not a public address`),
        [],
      );
    if (options.all) return callback(null, addresses);
    callback(null, first.address, first.family);
  });
};

/**
 * Global unicast only. ipaddr.js names every special-purpose range (loopback, RFC 1918, link
 * local with 169.254.169.254, unique local, CGNAT, multicast, unspecified, reserved, NAT64, 6to4,
 * Teredo, …) and calls what is left `unicast`; an IPv4-mapped IPv6 address is judged as its IPv4.
 */
function isPublicAddress(address: string): boolean {
  return ipaddr.isValid(address) && ipaddr.process(address).range() === 'unicast';
}

function sendGet(url: URL, signal: AbortSignal, guarded: boolean): Promise<IncomingMessage> {
  const options: https.RequestOptions = {
    method: 'GET',
    headers: { accept: 'application/json' },
    // A connection of its own: a pooled socket would be reused without passing our lookup.
    agent: false,
    signal,
    ...(guarded ? { lookup: lookupPublicAddress } : {}),
  };
  return new Promise((resolve, reject) => {
    const request =
      url.protocol === 'https:' ? https.request(url, options, resolve) : http.request(url, options, resolve);
    request.on('error', reject);
    request.end();
  });
}

async function readDocument(response: IncomingMessage): Promise<FetchedDocument> {
  const status = response.statusCode ?? 0;
  // Redirects are not followed: the document must live at the URL that is its client_id.
  if (status !== 200) throw new DocumentRefused(`the server answered ${status}, not 200`);
  const contentType = response.headers['content-type'];
  if (!isJsonContentType(contentType))
    throw new DocumentRefused(`content type ${contentType ?? '(none)'} is not JSON`);
  const body = await readCapped(response, MAX_DOCUMENT_BYTES);
  return {
    body: decodeUtf8(body),
    cacheControl: response.headers['cache-control'],
    expires: response.headers.expires,
    date: response.headers.date,
  };
}

/** application/json, or a more specific application/<name>+json (§4.1). */
function isJsonContentType(header: string | undefined): boolean {
  const mediaType = header?.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(mediaType);
}

async function readCapped(response: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = `the document is larger than ${maxBytes} bytes`;
  if (Number(response.headers['content-length']) > maxBytes) throw new DocumentRefused(tooLarge);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Leaving the loop destroys the stream, which aborts the transfer then and there.
    if (size > maxBytes) throw new DocumentRefused(tooLarge);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function decodeUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new DocumentRefused('body is not UTF-8');
  }
}

function reasonOf(error: unknown): string {
  return truncate(error instanceof Error ? error.message : 'unknown failure');
}

function truncate(text: string): string {
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}…` : text;
}
