// /mcp from the attacker's side (SPEC §2, §4): no credential, a browser's session cookie,
// a garbled credential, an access token for another resource or past its expiry, a token
// whose scopes lack a tool's permission, a role that does not allow a tool, and org probing
// with a user's token and with another org's API key. Each refusal is asserted by status,
// challenge header and stable code; the failure limit answers 429 with Retry-After.
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import { HOUR } from '../../src/core/clock.ts';
import { createKey, withBadChecksum } from '../helpers/api-keys.ts';
import { addMember, createTestApp, setUpOrgWithAdmin } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import {
  API_RESOURCE,
  assertToolError,
  callTool,
  connectMcp,
  MCP_RESOURCE_METADATA,
  type RawAnswer,
  rawMcp,
  toolCall,
  userAccessToken,
} from '../helpers/mcp.ts';
import { ISSUER, MCP_RESOURCE } from '../helpers/oauth.ts';
import { overSocket } from '../helpers/socket-inject.ts';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '0' } },
};

/** A 401 with the invalid_token challenge, naming the metadata document, and the stable code. */
function assertRefusedToken(answer: RawAnswer, code: string): void {
  assert.equal(answer.status, 401, answer.text);
  const challenge = answer.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="/);
  assert.ok(challenge.endsWith(`resource_metadata="${MCP_RESOURCE_METADATA}"`), challenge);
  assert.equal(answer.json().error.code, code, answer.text);
  assert.equal(answer.json().error.request_id, answer.headers.get('x-request-id'));
}

describeEachBackend('MCP server security', (app) => {
  it('answers a request without a credential 401 with the challenge that leads to the metadata document', async () => {
    const t = app();
    const bare = await rawMcp(t, { body: INITIALIZE });
    assert.equal(bare.status, 401, bare.text);
    assert.equal(bare.headers.get('www-authenticate'), `Bearer resource_metadata="${MCP_RESOURCE_METADATA}"`);
    assert.equal(bare.json().error.code, 'authentication_required');
    assert.match(bare.headers.get('access-control-expose-headers') ?? '', /WWW-Authenticate/);

    // The document the challenge names: this resource, protected by Gatehouse's own /oauth.
    const metadata = await overSocket(t, {
      method: 'GET',
      url: new URL(MCP_RESOURCE_METADATA).pathname,
    });
    assert.equal(metadata.statusCode, 200, metadata.body);
    assert.equal(metadata.json().resource, MCP_RESOURCE);
    assert.deepEqual(metadata.json().authorization_servers, [ISSUER]);
  });

  it('ignores cookies: a signed-in browser session alone gets the same 401', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-cookie');
    const cookie = Object.entries(admin.cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
    // The same cookie is a valid session on /v1, so the refusal below is /mcp's doing.
    const me = await overSocket(t, { method: 'GET', url: '/v1/me', headers: { cookie } });
    assert.equal(me.statusCode, 200, me.body);

    const refused = await rawMcp(t, {
      headers: { cookie, 'x-csrf-token': admin.csrfToken },
      body: toolCall(1, 'whoami'),
    });
    assert.equal(refused.status, 401, refused.text);
    assert.equal(
      refused.headers.get('www-authenticate'),
      `Bearer resource_metadata="${MCP_RESOURCE_METADATA}"`,
    );
    assert.equal(refused.json().error.code, 'authentication_required');
  });

  it('refuses a garbled credential, an API key with a bad checksum and a forged JWT with invalid_token', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-garbled');
    const { token } = await createKey(t, admin, 'mcp-garbled');
    const cases: [string, string][] = [
      ['Bearer not-a-credential', 'unsupported_credential'],
      ['Basic YWRtaW46YWRtaW4=', 'malformed_authorization_header'],
      [`Bearer ${withBadChecksum(token)}`, 'api_key_checksum_mismatch'],
      ['Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c3JfeCJ9.c2lnbmF0dXJl', 'access_token_invalid'],
    ];
    for (const [authorization, code] of cases)
      assertRefusedToken(await rawMcp(t, { headers: { authorization }, body: INITIALIZE }), code);
  });

  it('refuses an access token issued for the /v1 resource, though /v1 accepts it', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-aud');
    const forApi = await userAccessToken(t, admin.userId, { scope: 'profile:own', resource: API_RESOURCE });
    const onV1 = await overSocket(t, {
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${forApi}` },
    });
    assert.equal(onV1.statusCode, 200, onV1.body);
    assertRefusedToken(
      await rawMcp(t, { headers: { authorization: `Bearer ${forApi}` }, body: INITIALIZE }),
      'access_token_wrong_audience',
    );
  });

  it('answers a tool call whose permission the token lacks 403 insufficient_scope, naming the scope, before any tool runs', async (test: TestContext) => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-scope');
    const token = await userAccessToken(t, admin.userId, { scope: 'profile:own members:read' });
    const authorization = `Bearer ${token}`;

    const refused = await rawMcp(t, {
      headers: { authorization },
      body: toolCall(7, 'read_audit_log', { org: 'mcp-scope' }),
    });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(
      refused.headers.get('www-authenticate'),
      `Bearer error="insufficient_scope", scope="audit:read", resource_metadata="${MCP_RESOURCE_METADATA}"`,
    );
    assert.equal(refused.json().error.code, 'insufficient_scope');
    assert.match(refused.json().error.message, /audit:read/);

    // A batch names every scope it lacks, and none of its calls runs.
    const batch = await rawMcp(t, {
      headers: { authorization },
      body: [
        toolCall(1, 'list_members', { org: 'mcp-scope' }),
        toolCall(2, 'list_projects', { org: 'mcp-scope' }),
        toolCall(3, 'read_audit_log', { org: 'mcp-scope' }),
      ],
    });
    assert.equal(batch.status, 403, batch.text);
    assert.match(batch.headers.get('www-authenticate') ?? '', / scope="projects:read audit:read", /);

    // What the scopes do allow still works with the same token.
    const client = await connectMcp(t, token, test);
    assert.equal((await client.listTools()).tools.length, 6);
    assert.equal((await callTool(client, 'list_members', { org: 'mcp-scope' })).isError, false);
    await assert.rejects(
      client.callTool({ name: 'list_projects', arguments: { org: 'mcp-scope' } }),
      (error: Error & { code?: number }) => error.code === 403 && /insufficient_scope/.test(error.message),
      'the SDK client sees the 403',
    );
  });

  it('answers a viewer calling read_audit_log or list_members with a tool error, permission_denied', async (test: TestContext) => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-viewer');
    const viewer = await addMember(t, admin, 'mcp-viewer', 'viewer', 'viewer@mcp-viewer.example');
    const { token } = await createKey(t, viewer, 'mcp-viewer');
    const client = await connectMcp(t, token, test);
    assertToolError(await callTool(client, 'read_audit_log', { org: 'mcp-viewer' }), 'permission_denied');
    assertToolError(await callTool(client, 'list_members', { org: 'mcp-viewer' }), 'permission_denied');
    assert.equal((await callTool(client, 'list_projects', { org: 'mcp-viewer' })).isError, false);

    // Over plain HTTP the refusal is a JSON-RPC result, 200, not an HTTP error.
    const raw = await rawMcp(t, {
      headers: { authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-06-18' },
      body: toolCall(9, 'read_audit_log', { org: 'mcp-viewer' }),
    });
    assert.equal(raw.status, 200, raw.text);
    assert.equal(raw.json().result.isError, true);
    assert.equal(raw.json().result.structuredContent.error.code, 'permission_denied');
  });

  it('answers a member of org A asking about org B exactly as about an org that does not exist', async (test: TestContext) => {
    const t = app();
    const { admin: adminA } = await setUpOrgWithAdmin(t, 'mcp-org-a');
    const { admin: adminB } = await setUpOrgWithAdmin(t, 'mcp-org-b');
    // B's admin has events and members B's tools would show.
    await createKey(t, adminB, 'mcp-org-b');
    const token = await userAccessToken(t, adminA.userId, {
      scope: 'profile:own projects:read members:read apikeys:read audit:read',
    });
    const client = await connectMcp(t, token, test);
    for (const tool of ['list_projects', 'list_members', 'list_api_keys', 'read_audit_log']) {
      const other = await callTool(client, tool, { org: 'mcp-org-b' });
      const missing = await callTool(client, tool, { org: 'mcp-org-nowhere' });
      assertToolError(other, 'org_not_found', 'org');
      assertToolError(missing, 'org_not_found', 'org');
      const { request_id: _a, ...otherError } = other.body.error;
      const { request_id: _b, ...missingError } = missing.body.error;
      assert.deepEqual(otherError, missingError, `${tool}: no way to tell B exists`);
    }
    assert.equal((await callTool(client, 'read_audit_log', { org: 'mcp-org-a' })).isError, false);
  });

  it('answers an org A API key asking about org B with credential_org_mismatch, whether B exists or not', async (test: TestContext) => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-key-a');
    await setUpOrgWithAdmin(t, 'mcp-key-b');
    const { token } = await createKey(t, admin, 'mcp-key-a');
    const client = await connectMcp(t, token, test);
    for (const tool of ['list_projects', 'list_members', 'list_api_keys', 'read_audit_log']) {
      assertToolError(await callTool(client, tool, { org: 'mcp-key-b' }), 'credential_org_mismatch', 'org');
      assertToolError(
        await callTool(client, tool, { org: 'mcp-key-none' }),
        'credential_org_mismatch',
        'org',
      );
      assert.equal((await callTool(client, tool, { org: 'mcp-key-a' })).isError, false, tool);
    }
    const orgs = await callTool(client, 'list_orgs');
    assert.deepEqual(
      orgs.body.data.map((o: { slug: string }) => o.slug),
      ['mcp-key-a'],
    );
  });

  it('refuses an expired access token, even one verified and cached while it was valid', async (test: TestContext) => {
    const t = await createTestApp(app().kind);
    test.after(() => t.close());
    // oidc-provider stamps tokens with the real time: the app's clock starts there too.
    t.clock.set(Date.now());
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-exp');
    const token = await userAccessToken(t, admin.userId, { scope: 'profile:own' });
    const authorization = `Bearer ${token}`;
    assert.equal((await rawMcp(t, { headers: { authorization }, body: INITIALIZE })).status, 200);
    t.clock.advance(HOUR + 60_000);
    assertRefusedToken(
      await rawMcp(t, { headers: { authorization }, body: INITIALIZE }),
      'access_token_expired',
    );
  });

  it('refuses an access token whose grant was revoked, though it was verified and cached and has not expired', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-rev');
    const token = await userAccessToken(t, admin.userId, { scope: 'profile:own' });
    const authorization = `Bearer ${token}`;
    assert.equal((await rawMcp(t, { headers: { authorization }, body: INITIALIZE })).status, 200);
    const { gid, client_id } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    await t.services.oauth.consents.revokeGrant(t.services.systemContext('test'), gid, client_id);
    assertRefusedToken(
      await rawMcp(t, { headers: { authorization }, body: INITIALIZE }),
      'access_token_revoked',
    );
  });

  it('answers 429 with Retry-After once an address has used up its failed authentications', async (test: TestContext) => {
    const t = await createTestApp(app().kind, { GATEHOUSE_AUTH_FAILURES_PER_MINUTE: '2' });
    test.after(() => t.close());
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-flood');
    const { token } = await createKey(t, admin, 'mcp-flood');
    const guess = { headers: { authorization: `Bearer ${withBadChecksum(token)}` }, body: INITIALIZE };
    assertRefusedToken(await rawMcp(t, guess), 'api_key_checksum_mismatch');
    assertRefusedToken(await rawMcp(t, guess), 'api_key_checksum_mismatch');
    for (const authorization of [guess.headers.authorization, `Bearer ${token}`]) {
      const limited = await rawMcp(t, { headers: { authorization }, body: INITIALIZE });
      assert.equal(limited.status, 429, limited.text);
      assert.match(limited.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
      assert.equal(limited.json().error.code, 'too_many_failed_authentications');
    }
  });

  it('keeps the body size limit and speaks JSON only', async (test: TestContext) => {
    const t = await createTestApp(app().kind, { GATEHOUSE_BODY_LIMIT_BYTES: '4096' });
    test.after(() => t.close());
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-body');
    const { token } = await createKey(t, admin, 'mcp-body');
    const authorization = `Bearer ${token}`;
    const padded = { ...toolCall(1, 'list_projects', { org: 'mcp-body' }), padding: 'x'.repeat(5000) };
    const tooLarge = await rawMcp(t, { headers: { authorization }, body: padded });
    assert.equal(tooLarge.status, 413, tooLarge.text);
    assert.equal(tooLarge.json().error.code, 'payload_too_large');
    const asText = await rawMcp(t, {
      headers: { authorization, 'content-type': 'text/plain' },
      body: JSON.stringify(INITIALIZE),
    });
    assert.equal(asText.status, 415, asText.text);
    assert.equal(asText.json().error.code, 'unsupported_media_type');
  });
});
