// Forward auth over real HTTP is answered below Fastify (http/forward-auth-fast-path.ts); the
// tests that use inject() reach the Fastify route. This runs both on one app and asserts they
// answer every case alike — status, error code and field, identity and API headers — and that
// the fast path keeps what the route's plumbing gave: the request id, the trusted client
// address for the failure limit, the duration histogram, and hand-off of what it does not
// answer (other methods, repeated or invalid parameters) to Fastify.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { createKey, withBadChecksum, withForgedSecret } from '../helpers/api-keys.ts';
import { addMember, type Browser, createTestApp, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { backendKinds } from '../helpers/backends.ts';

const COMPARED_HEADERS = [
  'x-gatehouse-principal-kind',
  'x-gatehouse-user',
  'x-gatehouse-auth-method',
  'x-gatehouse-org',
  'x-gatehouse-org-slug',
  'x-gatehouse-role',
  'x-gatehouse-read-only',
  'www-authenticate',
  'cache-control',
  'x-content-type-options',
  'content-type',
] as const;

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

/** The body without its request id, which differs per request by design. */
function comparable(body: string): unknown {
  if (body === '') return '';
  const parsed = JSON.parse(body) as { error?: Record<string, unknown> };
  if (parsed.error) delete parsed.error.request_id;
  return parsed;
}

for (const kind of backendKinds()) {
  describe(`forward auth fast path [${kind}]`, () => {
    let t: TestApp;
    let base: string;
    let admin: Browser;
    let viewer: Browser;
    const tokens: Record<string, string> = {};

    before(async () => {
      t = await createTestApp(kind, {
        GATEHOUSE_TRUST_PROXY: '127.0.0.1',
        GATEHOUSE_AUTH_FAILURES_PER_MINUTE: '5',
      });
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      ({ admin } = await setUpOrgWithAdmin(t, 'fast', 'root@fast.example'));
      await setUpOrgWithAdmin(t, 'other', 'root@other.example');
      viewer = await addMember(t, admin, 'fast', 'viewer', 'vi@fast.example');
      tokens.admin = (await createKey(t, admin, 'fast')).token;
      tokens.readOnly = (await createKey(t, admin, 'fast', { name: 'ro', read_only: true })).token;
      tokens.viewer = (await createKey(t, viewer, 'fast')).token;
    });
    after(async () => {
      await t?.close();
    });

    async function overHttp(method: string, path: string, headers: Record<string, string>): Promise<Answer> {
      const response = await fetch(`${base}${path}`, { method, headers, signal: AbortSignal.timeout(5000) });
      const body = await response.text();
      return {
        status: response.status,
        headers: Object.fromEntries(COMPARED_HEADERS.map((h) => [h, response.headers.get(h) ?? undefined])),
        body: method === 'HEAD' ? '' : comparable(body),
      };
    }

    function fromInject(res: LightMyRequestResponse, method: string): Answer {
      const header = (h: string) => {
        const v = res.headers[h];
        return v === undefined ? undefined : String(v);
      };
      return {
        status: res.statusCode,
        headers: Object.fromEntries(COMPARED_HEADERS.map((h) => [h, header(h)])),
        body: method === 'HEAD' ? '' : comparable(res.body),
      };
    }

    async function bothAlike(
      method: string,
      path: string,
      headers: Record<string, string> = {},
    ): Promise<Answer> {
      // Each from its own address, so the failure limit of one does not decide the other.
      const http = await overHttp(method, path, { ...headers, 'x-forwarded-for': '10.1.0.1' });
      const injected = fromInject(
        await t.app.inject({
          method: method as InjectOptions['method'],
          url: path,
          headers,
          remoteAddress: '10.1.0.2',
        }),
        method,
      );
      assert.deepEqual(http, injected, `${method} ${path} ${JSON.stringify(headers)}`);
      return http;
    }

    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

    it('answers every check over HTTP exactly as the Fastify route does', async () => {
      const cases: [string, string, Record<string, string>, number][] = [
        ['GET', '/v1/authz/check', {}, 401],
        ['GET', '/v1/authz/check', bearer(tokens.admin!), 200],
        ['GET', '/v1/authz/check?org=fast', bearer(tokens.admin!), 200],
        ['GET', '/v1/authz/check?org=other', bearer(tokens.admin!), 403],
        ['GET', '/v1/authz/check?permission=members:write', bearer(tokens.admin!), 200],
        ['GET', '/v1/authz/check?permission=members:write', bearer(tokens.viewer!), 403],
        ['GET', '/v1/authz/check?permission=no-such-thing', bearer(tokens.admin!), 400],
        ['GET', '/v1/authz/check?org=fast&unrelated=1', bearer(tokens.admin!), 200],
        ['POST', '/v1/authz/check', bearer(tokens.readOnly!), 403],
        ['GET', '/v1/authz/check', { ...bearer(tokens.readOnly!), 'x-forwarded-method': 'DELETE' }, 403],
        ['DELETE', '/v1/authz/check', bearer(tokens.admin!), 200],
        ['GET', '/v1/authz/check', { authorization: 'Basic Zm9vOmJhcg==' }, 401],
        ['GET', '/v1/authz/check', bearer(withBadChecksum(tokens.admin!)), 401],
        ['GET', '/v1/authz/check', bearer(withForgedSecret(tokens.admin!)), 401],
        [
          'GET',
          '/v1/authz/check',
          {
            cookie: Object.entries(admin.cookies)
              .map(([k, v]) => `${k}=${v}`)
              .join('; '),
          },
          200,
        ],
        // Left to Fastify by the fast path: a repeated parameter, an over-long one, HEAD.
        ['GET', '/v1/authz/check?org=fast&org=other', bearer(tokens.admin!), 400],
        ['GET', `/v1/authz/check?org=${'x'.repeat(65)}`, bearer(tokens.admin!), 400],
        ['HEAD', '/v1/authz/check', bearer(tokens.admin!), 200],
      ];
      for (const [method, path, headers, status] of cases) {
        const answer = await bothAlike(method, path, headers);
        assert.equal(answer.status, status, `${method} ${path}`);
      }
    });

    it('never reads the body of a check: a POST with a broken JSON body is answered on its credential', async () => {
      // Envoy checks with the original request's method and headers; the body is not the
      // check's business. (Fastify, which the fast path bypasses, would refuse the JSON.)
      const response = await fetch(`${base}/v1/authz/check`, {
        method: 'POST',
        headers: { ...bearer(tokens.admin!), 'content-type': 'application/json' },
        body: '{not json',
      });
      assert.equal(response.status, 200, await response.text());
      assert.equal(response.headers.get('x-gatehouse-role'), 'admin');
    });

    it('echoes a well-formed X-Request-Id and makes one otherwise', async () => {
      const echoed = await fetch(`${base}/v1/authz/check`, {
        headers: { ...bearer(tokens.admin!), 'x-request-id': 'proxy-req-12345678' },
      });
      assert.equal(echoed.headers.get('x-request-id'), 'proxy-req-12345678');
      const made = await fetch(`${base}/v1/authz/check`, {
        headers: { ...bearer(tokens.admin!), 'x-request-id': 'bad id!' },
      });
      assert.match(made.headers.get('x-request-id') ?? '', /^req_/);
    });

    it('counts failures against the forwarded client address and answers 429 with Retry-After', async () => {
      const from = (address: string) =>
        fetch(`${base}/v1/authz/check`, {
          headers: { ...bearer(withForgedSecret(tokens.admin!)), 'x-forwarded-for': address },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await from('10.9.9.9')).status);
      assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
      const limited = await from('10.9.9.9');
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.equal(
        ((await limited.json()) as { error: { code: string } }).error.code,
        'too_many_failed_authentications',
      );
      // Another address is not limited.
      assert.equal((await from('10.9.9.10')).status, 401);
    });

    it('records its answers in the request-duration histogram under the route', async () => {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      const line = metrics
        .split('\n')
        .find(
          (l) =>
            l.startsWith('gatehouse_http_request_duration_seconds_count') &&
            l.includes('route="/v1/authz/check"') &&
            l.includes('status="200"') &&
            l.includes('method="GET"'),
        );
      assert.ok(line, metrics.slice(0, 2000));
      assert.ok(Number(line.split(' ').pop()) > 0);
    });
  });
}
