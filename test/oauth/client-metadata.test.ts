// Client ID Metadata Documents: which client_id URLs are accepted, the address guard that keeps
// the fetch off loopback and private networks, the limits on what a server may send back, the
// checks on the document, and how long a document (or a refusal) is kept. Documents are served
// by a real HTTP server on 127.0.0.1 that counts the connections and requests it saw.
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { createManualClock, DAY, HOUR, type ManualClock, MINUTE, SECOND } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/context.ts';
import {
  type ClientMetadataConfig,
  createClientMetadataResolver,
  createDocumentFetcher,
  type DocumentFetcher,
} from '../../src/oauth/client-metadata.ts';

type Handler = (request: IncomingMessage, response: ServerResponse, origin: string) => void;

interface DocumentServer {
  readonly origin: string;
  readonly port: number;
  /** Paths requested, in order. */
  readonly requests: string[];
  readonly connections: () => number;
}

async function serveDocuments(t: TestContext, routes: Record<string, Handler>): Promise<DocumentServer> {
  const server = http.createServer();
  const requests: string[] = [];
  let connections = 0;
  let origin = '';
  server.on('connection', () => {
    connections += 1;
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    requests.push(request.url ?? '');
    const route = routes[request.url ?? ''];
    if (route) route(request, response, origin);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { origin, port, requests, connections: () => connections };
}

function sendJson(response: ServerResponse, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** What a well-behaved MCP client publishes: public, loopback redirect, code flow. */
function validDocument(clientId: string): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: 'Example MCP client',
    redirect_uris: ['http://127.0.0.1:33418/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

/** Serves validDocument at /client.json, changed by `edit` and sent with `headers`. */
function documentRoute(
  edit: (document: Record<string, unknown>) => unknown = (document) => document,
  headers: Record<string, string> = {},
): Handler {
  return (_request, response, origin) =>
    sendJson(response, edit(validDocument(`${origin}/client.json`)), headers);
}

interface LogLine {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string | undefined;
}

function recordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const record = (level: string) => (fields: object, message?: string) => {
    lines.push({ level, fields: fields as Record<string, unknown>, message });
  };
  return {
    lines,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
}

function reasons(log: { readonly lines: LogLine[] }): string[] {
  return log.lines.map((line) => String(line.fields.reason));
}

function createResolver(
  options: Partial<ClientMetadataConfig> & { clock?: ManualClock; fetchDocument?: DocumentFetcher } = {},
) {
  const log = recordingLogger();
  const clock = options.clock ?? createManualClock();
  const resolver = createClientMetadataResolver({
    config: {
      allowedHosts: options.allowedHosts ?? ['127.0.0.1'],
      pinned: options.pinned ?? new Map(),
      allowInsecure: options.allowInsecure ?? true,
    },
    clock,
    log,
    ...(options.fetchDocument ? { fetchDocument: options.fetchDocument } : {}),
  });
  return { resolver, log, clock };
}

describe('client metadata documents: client identifier URLs', () => {
  const accepted = [
    'https://app.example.com/client.json',
    'https://app.example.com/',
    'https://app.example.com:8443/oauth/client?version=2',
  ];
  const refused = [
    'http://app.example.com/client.json',
    'https://app.example.com',
    'https://app.example.com/a/../client.json',
    'https://app.example.com/./client.json',
    'https://app.example.com/%2e%2e/client.json',
    'https://app.example.com/client.json#section',
    'https://app.example.com/client.json#',
    'https://user:secret@app.example.com/client.json',
    'https://user@app.example.com/client.json',
    'https://App.Example.com/client.json',
    'https://app.example.com:443/client.json',
    `https://app.example.com/${'a'.repeat(3000)}`,
    'my-registered-client',
    'urn:example:client',
    '',
  ];

  it('accepts https URLs with a path, in canonical form', () => {
    const { resolver } = createResolver({ allowInsecure: false });
    for (const url of accepted) assert.equal(resolver.isDocumentUrl(url), true, url);
  });

  it('refuses other schemes, a missing path, dot segments, fragments, user info and non-canonical spellings', () => {
    const { resolver } = createResolver({ allowInsecure: false });
    for (const url of refused) assert.equal(resolver.isDocumentUrl(url), false, url);
  });

  it('accepts http URLs only when insecure documents are allowed', () => {
    assert.equal(
      createResolver({ allowInsecure: true }).resolver.isDocumentUrl('http://127.0.0.1:3000/c.json'),
      true,
    );
    assert.equal(
      createResolver({ allowInsecure: false }).resolver.isDocumentUrl('http://127.0.0.1:3000/c.json'),
      false,
    );
  });

  it('refuses a URL outside the rules without making a request', async (t) => {
    const server = await serveDocuments(t, { '/client.json': documentRoute() });
    const { resolver } = createResolver();
    assert.equal(await resolver.resolve(`${server.origin}/a/../client.json`), undefined);
    assert.equal(await resolver.resolve(`${server.origin}/client.json#x`), undefined);
    assert.equal(await resolver.resolve(`http://user:pw@127.0.0.1:${server.port}/client.json`), undefined);
    assert.equal(server.connections(), 0);
  });

  it('makes no request for a host that is not on the allowlist', async (t) => {
    const server = await serveDocuments(t, { '/client.json': documentRoute() });
    for (const allowedHosts of [['mcp.example.com'], []]) {
      const { resolver, log } = createResolver({ allowedHosts });
      assert.equal(await resolver.resolve(`${server.origin}/client.json`), undefined);
      assert.match(reasons(log)[0] ?? '', /not on the allowlist/);
    }
    assert.equal(server.connections(), 0);
  });

  it('matches allowlist wildcards against subdomains only', async () => {
    const fetched: string[] = [];
    // An in-memory fetcher: these host names do not resolve here, and the question is only
    // which URLs the resolver lets through to its fetcher.
    const fetchDocument: DocumentFetcher = async (url) => {
      fetched.push(url.href);
      return {
        body: JSON.stringify(validDocument(url.href)),
        cacheControl: undefined,
        expires: undefined,
        date: undefined,
      };
    };
    const { resolver } = createResolver({
      allowedHosts: ['*.example.com', 'exact.example.org'],
      allowInsecure: false,
      fetchDocument,
    });
    const allowed = [
      'https://a.example.com/client.json',
      'https://deep.a.example.com/client.json',
      'https://exact.example.org/client.json',
    ];
    const notAllowed = [
      'https://example.com/client.json',
      'https://evilexample.com/client.json',
      'https://sub.exact.example.org/client.json',
    ];
    for (const url of allowed) assert.notEqual(await resolver.resolve(url), undefined, url);
    for (const url of notAllowed) assert.equal(await resolver.resolve(url), undefined, url);
    assert.deepEqual(fetched, allowed);
  });
});

describe('client metadata documents: the address guard', () => {
  const literalHosts = [
    { name: '127.0.0.1 (loopback)', url: (port: number) => `https://127.0.0.1:${port}/client.json` },
    { name: '10.0.0.1 (RFC 1918)', url: () => 'https://10.0.0.1/client.json' },
    { name: '169.254.169.254 (cloud metadata)', url: () => 'https://169.254.169.254/latest/meta-data/' },
    { name: '100.64.0.1 (CGNAT)', url: () => 'https://100.64.0.1/client.json' },
    { name: '0.0.0.0 (unspecified)', url: (port: number) => `https://0.0.0.0:${port}/client.json` },
    { name: '[::1] (IPv6 loopback)', url: (port: number) => `https://[::1]:${port}/client.json` },
    // The canonical spelling of [::ffff:127.0.0.1], which is all a client_id may use.
    {
      name: '[::ffff:7f00:1] (IPv4-mapped loopback)',
      url: (port: number) => `https://[::ffff:7f00:1]:${port}/client.json`,
    },
    { name: '[fd00::1] (unique local)', url: () => 'https://[fd00::1]/client.json' },
  ];

  for (const host of literalHosts) {
    it(`refuses ${host.name} without connecting`, async (t) => {
      const server = await serveDocuments(t, { '/client.json': documentRoute() });
      const url = host.url(server.port);
      const { resolver, log } = createResolver({
        allowedHosts: [new URL(url).hostname],
        allowInsecure: false,
      });
      assert.equal(await resolver.resolve(url), undefined);
      assert.match(reasons(log)[0] ?? '', /is not a public address/);
      assert.equal(server.connections(), 0);
    });
  }

  it('refuses ::ffff:127.0.0.1 however it is spelled in the URL handed to the fetcher', async (t) => {
    const server = await serveDocuments(t, { '/client.json': documentRoute() });
    const fetchDocument = createDocumentFetcher({ allowInsecure: false });
    await assert.rejects(
      fetchDocument(new URL(`https://[::ffff:127.0.0.1]:${server.port}/client.json`)),
      /is not a public address/,
    );
    assert.equal(server.connections(), 0);
  });

  it('refuses a host name that resolves to loopback, before connecting', async (t) => {
    const server = await serveDocuments(t, { '/client.json': documentRoute() });
    const { resolver, log } = createResolver({ allowedHosts: ['localhost'], allowInsecure: false });
    assert.equal(await resolver.resolve(`https://localhost:${server.port}/client.json`), undefined);
    assert.match(reasons(log)[0] ?? '', /^localhost resolves to .+, not a public address$/);
    assert.equal(server.connections(), 0);
  });
});

describe('client metadata documents: fetching', () => {
  it('turns a served document into oidc-provider metadata with only the RFC 7591 fields', async (t) => {
    const server = await serveDocuments(t, {
      '/client.json': documentRoute(
        (document) => {
          const { token_endpoint_auth_method: _omitted, ...rest } = document;
          return { ...rest, scope: 'mcp', jwks_uri: 'https://keys.example.com/jwks', x_custom: 'kept out' };
        },
        { 'content-type': 'application/json; charset=utf-8' },
      ),
    });
    const { resolver } = createResolver();
    const clientId = `${server.origin}/client.json`;
    assert.deepEqual(await resolver.resolve(clientId), {
      client_id: clientId,
      client_name: 'Example MCP client',
      scope: 'mcp',
      redirect_uris: ['http://127.0.0.1:33418/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      gatehouse_registration: 'metadata_document',
    });
    assert.deepEqual(server.requests, ['/client.json']);
  });

  it('sends a plain GET asking for JSON, with no cookies or credentials', async (t) => {
    let seen: IncomingMessage | undefined;
    const server = await serveDocuments(t, {
      '/client.json': (request, response, origin) => {
        seen = request;
        documentRoute()(request, response, origin);
      },
    });
    await createResolver().resolver.resolve(`${server.origin}/client.json`);
    assert.equal(seen?.method, 'GET');
    assert.equal(seen?.headers.accept, 'application/json');
    assert.equal(seen?.headers.cookie, undefined);
    assert.equal(seen?.headers.authorization, undefined);
  });

  it('accepts a more specific application/<name>+json content type', async (t) => {
    const server = await serveDocuments(t, {
      '/client.json': documentRoute(undefined, { 'content-type': 'application/vnd.example+json' }),
    });
    assert.notEqual(await createResolver().resolver.resolve(`${server.origin}/client.json`), undefined);
  });

  it('does not follow a redirect', async (t) => {
    const server = await serveDocuments(t, {
      '/client.json': (_request, response, origin) =>
        response.writeHead(302, { location: `${origin}/elsewhere.json` }).end(),
      '/elsewhere.json': (_request, response, origin) =>
        sendJson(response, validDocument(`${origin}/client.json`)),
    });
    const { resolver, log } = createResolver();
    assert.equal(await resolver.resolve(`${server.origin}/client.json`), undefined);
    assert.deepEqual(server.requests, ['/client.json']);
    assert.match(reasons(log)[0] ?? '', /answered 302/);
  });

  it('aborts a body beyond 64 KiB', async (t) => {
    const server = await serveDocuments(t, {
      '/client.json': (_request, response) => {
        // Chunked, with no Content-Length to refuse up front: the cap must hold while reading.
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"client_name":"');
        for (let kib = 0; kib < 100; kib += 1) response.write('a'.repeat(1024));
        response.end('"}');
      },
    });
    const { resolver, log } = createResolver();
    assert.equal(await resolver.resolve(`${server.origin}/client.json`), undefined);
    assert.match(reasons(log)[0] ?? '', /larger than 65536 bytes/);
  });

  // The test's own timeout turns a fetch that never ends into a failure rather than a hang.
  it('gives up on a server that is still sending when the timeout passes', {
    timeout: 5 * SECOND,
  }, async (t) => {
    const server = await serveDocuments(t, {
      '/client.json': (_request, response) => {
        // A byte every 50 ms: an idle timeout would never fire, a total one must.
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{');
        const trickle = setInterval(() => response.write(' '), 50);
        response.on('close', () => clearInterval(trickle));
      },
    });
    const fetchDocument = createDocumentFetcher({ allowInsecure: true, timeoutMs: 300 });
    const { resolver, log } = createResolver({ fetchDocument });
    const started = performance.now();
    assert.equal(await resolver.resolve(`${server.origin}/client.json`), undefined);
    assert.ok(performance.now() - started < 3 * SECOND, 'the timeout ends the fetch');
    assert.match(reasons(log)[0] ?? '', /no complete response within 300 ms/);
  });

  it('refuses a response that is not JSON, without logging the body', async (t) => {
    const server = await serveDocuments(t, {
      '/page.json': (_request, response) =>
        response.writeHead(200, { 'content-type': 'text/html' }).end('<p>BODY-MARKER</p>'),
      '/broken.json': (_request, response) =>
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id": BODY-MARKER'),
    });
    const { resolver, log } = createResolver();
    assert.equal(await resolver.resolve(`${server.origin}/page.json`), undefined);
    assert.equal(await resolver.resolve(`${server.origin}/broken.json`), undefined);
    assert.deepEqual(reasons(log), ['content type text/html is not JSON', 'body is not valid JSON']);
    assert.doesNotMatch(JSON.stringify(log.lines), /BODY-MARKER/);
  });
});

describe('client metadata documents: what a document may say', () => {
  const invalidDocuments: {
    title: string;
    edit: (document: Record<string, unknown>) => unknown;
    reason: RegExp;
  }[] = [
    {
      title: 'a client_id other than its own URL',
      edit: (document) => ({ ...document, client_id: 'https://other.example.com/client.json' }),
      reason: /client_id does not equal the document URL/,
    },
    {
      title: 'a client_secret',
      edit: (document) => ({ ...document, client_secret: 'SECRET-MARKER' }),
      reason: /must not carry client_secret/,
    },
    {
      title: 'a client_secret_expires_at',
      edit: (document) => ({ ...document, client_secret_expires_at: 0 }),
      reason: /must not carry client_secret/,
    },
    {
      title: 'private_key_jwt authentication',
      edit: (document) => ({ ...document, token_endpoint_auth_method: 'private_key_jwt' }),
      reason: /token_endpoint_auth_method must be none/,
    },
    {
      title: 'a shared-secret authentication method',
      edit: (document) => ({ ...document, token_endpoint_auth_method: 'client_secret_basic' }),
      reason: /token_endpoint_auth_method must be none/,
    },
    {
      title: 'no redirect_uris',
      edit: ({ redirect_uris: _omitted, ...document }) => document,
      reason: /redirect_uris must be a non-empty array/,
    },
    {
      title: 'an empty redirect_uris',
      edit: (document) => ({ ...document, redirect_uris: [] }),
      reason: /redirect_uris must be a non-empty array/,
    },
    {
      title: 'a redirect URI that is not a string',
      edit: (document) => ({ ...document, redirect_uris: ['https://app.example.com/cb', 42] }),
      reason: /redirect_uris must be a non-empty array of strings/,
    },
    {
      title: 'a plain-http redirect URI to a non-loopback host',
      edit: (document) => ({ ...document, redirect_uris: ['http://app.example.com/callback'] }),
      reason: /registration policy: redirect_uris must use https/,
    },
    {
      title: 'the client credentials grant',
      edit: (document) => ({ ...document, grant_types: ['client_credentials'] }),
      reason: /registration policy: grant_types may hold only/,
    },
    {
      title: 'a client_name that is not a string',
      edit: (document) => ({ ...document, client_name: 7 }),
      reason: /client_name must be a string/,
    },
    {
      title: 'a JSON array instead of an object',
      edit: (document) => [document],
      reason: /not a JSON object/,
    },
  ];

  for (const { title, edit, reason } of invalidDocuments) {
    it(`refuses a document with ${title}`, async (t) => {
      const server = await serveDocuments(t, { '/client.json': documentRoute(edit) });
      const { resolver, log } = createResolver();
      assert.equal(await resolver.resolve(`${server.origin}/client.json`), undefined);
      assert.equal(server.requests.length, 1);
      assert.match(reasons(log)[0] ?? '', reason);
    });
  }

  it('logs only the client_id and a reason, never the document', async (t) => {
    const server = await serveDocuments(t, {
      '/client.json': documentRoute((document) => ({ ...document, client_secret: 'SECRET-MARKER' })),
    });
    const { resolver, log } = createResolver();
    await resolver.resolve(`${server.origin}/client.json`);
    assert.equal(log.lines.length, 1);
    assert.equal(log.lines[0]?.level, 'info');
    assert.deepEqual(Object.keys(log.lines[0]?.fields ?? {}).sort(), ['clientId', 'reason']);
    assert.doesNotMatch(JSON.stringify(log.lines), /SECRET-MARKER/);
  });
});

describe('client metadata documents: caching', () => {
  interface Lifetime {
    readonly served: string;
    /** Computed when the test runs, so that Expires is an hour from then. */
    readonly headers: () => Record<string, string>;
    readonly freshAt: number;
    readonly staleAt: number;
  }
  const floor = { freshAt: 4 * MINUTE, staleAt: 5 * MINUTE + SECOND };
  const lifetimes: Lifetime[] = [
    {
      served: 'max-age=600',
      headers: () => ({ 'cache-control': 'max-age=600' }),
      freshAt: 599 * SECOND,
      staleAt: 601 * SECOND,
    },
    {
      served: 'max-age=10 (raised to 5 min)',
      headers: () => ({ 'cache-control': 'public, max-age=10' }),
      ...floor,
    },
    {
      served: 'max-age of a week (cut to 24 h)',
      headers: () => ({ 'cache-control': 'max-age=604800' }),
      freshAt: 23 * HOUR,
      staleAt: DAY + SECOND,
    },
    {
      served: 'no-cache (taken as 0, raised to 5 min)',
      headers: () => ({ 'cache-control': 'no-cache' }),
      ...floor,
    },
    { served: 'no cache headers (5 min)', headers: () => ({}), ...floor },
    {
      served: 'Expires an hour after Date',
      headers: () => ({ expires: new Date(Date.now() + HOUR).toUTCString() }),
      freshAt: 59 * MINUTE,
      staleAt: 61 * MINUTE,
    },
  ];

  for (const { served, headers, freshAt, staleAt } of lifetimes) {
    it(`keeps a document served with ${served}, then fetches it again`, async (t) => {
      const server = await serveDocuments(t, { '/client.json': documentRoute(undefined, headers()) });
      const { resolver, clock } = createResolver();
      const clientId = `${server.origin}/client.json`;
      const start = clock.now();
      assert.ok(await resolver.resolve(clientId));
      clock.set(start + freshAt);
      const cached = await resolver.resolve(clientId);
      assert.equal(server.requests.length, 1);
      assert.ok(cached);
      cached.client_name = 'changed by a caller';
      assert.equal(
        (await resolver.resolve(clientId))?.client_name,
        'Example MCP client',
        'each caller gets a copy',
      );
      clock.set(start + staleAt);
      assert.ok(await resolver.resolve(clientId));
      assert.equal(server.requests.length, 2);
    });
  }

  it('fetches a no-store document every time', async (t) => {
    const server = await serveDocuments(t, {
      '/client.json': documentRoute(undefined, { 'cache-control': 'no-store, max-age=3600' }),
    });
    const { resolver } = createResolver();
    assert.ok(await resolver.resolve(`${server.origin}/client.json`));
    assert.ok(await resolver.resolve(`${server.origin}/client.json`));
    assert.equal(server.requests.length, 2);
  });

  it('remembers a failure for one minute, so a flood of requests makes one fetch a minute', async (t) => {
    const server = await serveDocuments(t, {});
    const { resolver, log, clock } = createResolver();
    const clientId = `${server.origin}/missing.json`;
    for (let attempt = 0; attempt < 5; attempt += 1)
      assert.equal(await resolver.resolve(clientId), undefined);
    assert.equal(server.requests.length, 1);
    assert.equal(log.lines.length, 1, 'the refusal is logged once, not per request');
    clock.advance(59 * SECOND);
    assert.equal(await resolver.resolve(clientId), undefined);
    assert.equal(server.requests.length, 1);
    clock.advance(2 * SECOND);
    assert.equal(await resolver.resolve(clientId), undefined);
    assert.equal(server.requests.length, 2);
  });

  it('shares one fetch between concurrent resolutions of one URL', async (t) => {
    const server = await serveDocuments(t, {
      '/client.json': (request, response, origin) => {
        setTimeout(() => documentRoute()(request, response, origin), 50);
      },
    });
    const { resolver } = createResolver();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => resolver.resolve(`${server.origin}/client.json`)),
    );
    assert.equal(server.requests.length, 1);
    for (const result of results) assert.deepEqual(result, results[0]);
    assert.notEqual(results[0], results[1], 'each caller gets its own copy');
  });
});

describe('client metadata documents: pinned documents', () => {
  it('uses a pinned document without any request, even with an empty allowlist', async (t) => {
    const server = await serveDocuments(t, { '/client.json': documentRoute() });
    const clientId = `${server.origin}/client.json`;
    const { resolver } = createResolver({
      allowedHosts: [],
      pinned: new Map([[clientId, validDocument(clientId)]]),
    });
    const metadata = await resolver.resolve(clientId);
    assert.equal(metadata?.client_id, clientId);
    assert.equal(metadata?.gatehouse_registration, 'metadata_document');
    assert.ok(metadata);
    metadata.redirect_uris = ['https://attacker.example.com/cb'];
    assert.deepEqual((await resolver.resolve(clientId))?.redirect_uris, ['http://127.0.0.1:33418/callback']);
    assert.equal(server.connections(), 0);
  });

  it('refuses an invalid pinned document, warning once at start-up, and does not fetch it instead', async (t) => {
    const server = await serveDocuments(t, { '/client.json': documentRoute() });
    const clientId = `${server.origin}/client.json`;
    const pinned = new Map([[clientId, { ...validDocument(clientId), client_secret: 'SECRET-MARKER' }]]);
    const { resolver, log } = createResolver({ pinned });
    const warnings = log.lines.filter((line) => line.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.fields.clientId, clientId);
    assert.equal(await resolver.resolve(clientId), undefined);
    assert.equal(await resolver.resolve(clientId), undefined);
    assert.equal(log.lines.filter((line) => line.level === 'warn').length, 1);
    assert.equal(server.connections(), 0);
    assert.doesNotMatch(JSON.stringify(log.lines), /SECRET-MARKER/);
  });
});
