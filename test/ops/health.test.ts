import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { asBrowser, type Browser, createTestApp, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { backendKinds } from '../helpers/backends.ts';

const BODY_LIMIT = 2048;
const REQUEST_ID = /^req_[A-Za-z0-9_-]+$/;

/** A body leaks internals when it shows a stack frame or an exception's "Error:" prefix. */
function assertNoInternals(response: LightMyRequestResponse): void {
  assert.doesNotMatch(response.body, /\bat \S+ \(|\bat \S+:\d+:\d+|^\s*at /m, 'no stack frame in the body');
  assert.ok(!response.body.includes('Error:'), `no "Error:" in the body: ${response.body.slice(0, 300)}`);
}

function assertJsonError(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): { code: string; message: string; field?: string; request_id: string } {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/json/);
  const { error } = response.json() as {
    error: { code: string; message: string; field?: string; request_id: string };
  };
  assert.equal(error.code, code);
  assert.equal(typeof error.message, 'string');
  assert.equal(error.request_id, response.headers['x-request-id'], 'the body names the request id');
  assertNoInternals(response);
  return error;
}

for (const kind of backendKinds()) {
  describe(`operations endpoints and edge errors [${kind}]`, () => {
    let t: TestApp;
    let admin: Browser;
    const seen: LightMyRequestResponse[] = [];

    before(async () => {
      t = await createTestApp(kind, { GATEHOUSE_BODY_LIMIT_BYTES: String(BODY_LIMIT) });
      admin = (await setUpOrgWithAdmin(t, 'health')).admin;
    });
    after(async () => {
      await t?.close();
    });

    async function send(options: InjectOptions): Promise<LightMyRequestResponse> {
      const response = await t.app.inject(options);
      seen.push(response);
      return response;
    }
    async function sendAsAdmin(options: InjectOptions): Promise<LightMyRequestResponse> {
      const response = await asBrowser(t, admin, options);
      seen.push(response);
      return response;
    }

    it('answers /healthz with 200 while the process is up', async () => {
      const res = await send({ method: 'GET', url: '/healthz' });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { status: 'ok' });
    });

    it('answers /readyz with 200 ready when the database is reachable and migrated', async () => {
      const res = await send({ method: 'GET', url: '/readyz' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { status: 'ready' });
    });

    it('serves Prometheus text on /metrics with request durations labelled by route pattern', async () => {
      await send({ method: 'GET', url: '/healthz' });
      await send({ method: 'GET', url: '/v1/no-such-thing-8f3a1c' });
      const res = await send({ method: 'GET', url: '/metrics' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      assert.match(res.body, /^# HELP gatehouse_http_request_duration_seconds /m);
      assert.match(res.body, /^# TYPE gatehouse_http_request_duration_seconds histogram$/m);
      assert.match(
        res.body,
        /^gatehouse_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} [1-9]\d*$/m,
      );
      assert.match(res.body, /^gatehouse_process_cpu_user_seconds_total /m, 'default process metrics');
      assert.ok(!res.body.includes('8f3a1c'), 'an unmatched URL never becomes a label');
    });

    it('gives every response a request id, keeping a well-formed incoming one and naming it in JSON errors', async () => {
      const incoming = 'trace-0123456789abcdef';
      const res = await send({ method: 'GET', url: '/v1/me', headers: { 'x-request-id': incoming } });
      assert.equal(res.headers['x-request-id'], incoming);
      const error = assertJsonError(res, 401, 'authentication_required');
      assert.equal(error.request_id, incoming);
      const fresh = await send({ method: 'GET', url: '/healthz' });
      assert.match(String(fresh.headers['x-request-id']), REQUEST_ID);
    });

    it('replaces a malformed incoming request id with its own', async () => {
      for (const malformed of ['short', 'has spaces in it', '<script>alert(1)</script>', 'x'.repeat(65)]) {
        const res = await send({ method: 'GET', url: '/v1/me', headers: { 'x-request-id': malformed } });
        const id = String(res.headers['x-request-id']);
        assert.match(id, REQUEST_ID, `"${malformed}" is replaced`);
        assert.equal(res.json().error.request_id, id);
        assert.ok(!res.body.includes(malformed));
      }
    });

    it('refuses a JSON body larger than GATEHOUSE_BODY_LIMIT_BYTES with 413 payload_too_large', async () => {
      const res = await sendAsAdmin({
        method: 'POST',
        url: '/v1/orgs',
        payload: { slug: 'big', name: 'x'.repeat(BODY_LIMIT * 2) },
      });
      assertJsonError(res, 413, 'payload_too_large');
      const list = await sendAsAdmin({ method: 'GET', url: '/v1/orgs' });
      assert.deepEqual(
        list.json().data.map((o: { slug: string }) => o.slug),
        ['health'],
        'nothing was created',
      );
    });

    it('refuses a body that is not valid JSON with 400 invalid_request naming the body', async () => {
      const res = await sendAsAdmin({
        method: 'POST',
        url: '/v1/orgs',
        headers: { 'content-type': 'application/json' },
        payload: '{"slug": "broken", "name": ',
      });
      const error = assertJsonError(res, 400, 'invalid_request');
      assert.equal(error.field, 'body');
    });

    it('refuses a form or XML body on POST /v1/orgs with 415 unsupported_media_type', async () => {
      for (const contentType of ['application/x-www-form-urlencoded', 'application/xml']) {
        const res = await sendAsAdmin({
          method: 'POST',
          url: '/v1/orgs',
          headers: { 'content-type': contentType },
          payload: 'slug=typed&name=Typed',
        });
        assertJsonError(res, 415, 'unsupported_media_type');
      }
    });

    it('refuses a text/plain body on POST /v1/orgs with 415 instead of reading it as a string', async () => {
      const res = await sendAsAdmin({
        method: 'POST',
        url: '/v1/orgs',
        headers: { 'content-type': 'text/plain' },
        payload: '{"slug":"plain","name":"Plain"}',
      });
      assertJsonError(res, 415, 'unsupported_media_type');
    });

    it('names the field of a body that fails its schema', async () => {
      const res = await sendAsAdmin({ method: 'POST', url: '/v1/orgs', payload: { name: 'No Slug' } });
      const error = assertJsonError(res, 400, 'invalid_request');
      assert.equal(error.field, 'slug');
    });

    it('answers an unknown /v1 route with a JSON 404 route_not_found, signed in or not', async () => {
      assertJsonError(await send({ method: 'GET', url: '/v1/nothing-here' }), 404, 'route_not_found');
      assertJsonError(await send({ method: 'DELETE', url: '/v1/nothing/here' }), 404, 'route_not_found');
      assertJsonError(await sendAsAdmin({ method: 'GET', url: '/v1/nothing-here' }), 404, 'route_not_found');
    });

    it('answers an unknown page with an HTML 404 page that names the request id', async () => {
      const res = await send({ method: 'GET', url: '/no-such-page', headers: { accept: 'text/html' } });
      assert.equal(res.statusCode, 404);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, /Not found/);
      assert.ok(res.body.includes(String(res.headers['x-request-id'])));
      assertNoInternals(res);
    });

    it('put a request id on every response above and leaked no internals in any of them', () => {
      assert.ok(seen.length >= 15);
      for (const res of seen) {
        assert.ok(res.headers['x-request-id'], `${res.raw.req.url} has a request id`);
        assertNoInternals(res);
      }
    });
  });
}
