// Gatehouse's MCP server at /mcp (SPEC §4) as an MCP client sees it, through the official SDK
// over real HTTP: the six tools and their schemas, each answered for an API key with the body
// its /v1 twin answers, and for an OAuth access token issued for the MCP resource, with the
// user's live role deciding what it may read. Also the transport's shape: stateless, JSON
// answers, no event stream.
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import { createKey, withKey } from '../helpers/api-keys.ts';
import { addMember, asBrowser, setUpOrgWithAdmin, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import { assertToolError, callTool, connectMcp, rawMcp, userAccessToken } from '../helpers/mcp.ts';

const TOOLS = ['list_api_keys', 'list_members', 'list_orgs', 'list_projects', 'read_audit_log', 'whoami'];

/** The /v1 answer to `url` for `token`, which each tool's answer must equal. */
async function v1Body(t: TestApp, token: string, url: string) {
  const res = await withKey(t, token, { method: 'GET', url });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

describeEachBackend('MCP server tools', (app) => {
  it('lists its six read-only tools, each described, with an input schema that refuses unknown arguments', async (test: TestContext) => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-list');
    const { token } = await createKey(t, admin, 'mcp-list');
    const client = await connectMcp(t, token, test);

    assert.equal(client.getServerVersion()?.name, 'gatehouse');
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), TOOLS);
    for (const tool of tools) {
      assert.ok((tool.description ?? '').length > 20, `${tool.name} has a description`);
      assert.equal(tool.inputSchema.type, 'object', tool.name);
      assert.equal(tool.inputSchema.additionalProperties, false, `${tool.name} refuses unknown arguments`);
      assert.equal(tool.annotations?.readOnlyHint, true, tool.name);
    }
    const orgTools = tools.filter((tool) => !['whoami', 'list_orgs'].includes(tool.name));
    for (const tool of orgTools) assert.deepEqual(tool.inputSchema.required, ['org'], tool.name);
  });

  it('answers every tool for an admin API key with the body its /v1 twin answers', async (test: TestContext) => {
    const t = app();
    const { admin, orgId } = await setUpOrgWithAdmin(t, 'mcp-key');
    await addMember(t, admin, 'mcp-key', 'viewer', 'viewer@mcp-key.example');
    const created = await asBrowser(t, admin, {
      method: 'POST',
      url: '/v1/orgs/mcp-key/projects',
      payload: { name: 'Eval harness' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const key = await createKey(t, admin, 'mcp-key', { name: 'agent' });
    const client = await connectMcp(t, key.token, test);

    const me = await callTool(client, 'whoami');
    assert.equal(me.isError, false, JSON.stringify(me.body));
    assert.deepEqual(me.body.principal, {
      kind: 'user',
      id: admin.userId,
      auth_method: 'api_key',
      read_only: false,
    });
    assert.equal(me.body.user.email, 'admin@mcp-key.example');
    assert.deepEqual(me.body.orgs, [{ id: orgId, slug: 'mcp-key', name: 'mcp-key Inc', role: 'admin' }]);

    const twins: [string, Record<string, unknown>, string][] = [
      ['list_orgs', {}, '/v1/orgs'],
      ['list_projects', { org: 'mcp-key' }, '/v1/orgs/mcp-key/projects'],
      ['list_members', { org: orgId, role: 'viewer' }, '/v1/orgs/mcp-key/members?role=viewer'],
      ['list_api_keys', { org: 'mcp-key' }, '/v1/orgs/mcp-key/api-keys'],
      ['read_audit_log', { org: 'mcp-key', action: 'member.*' }, '/v1/orgs/mcp-key/audit?action=member.*'],
    ];
    for (const [tool, args, url] of twins) {
      const answer = await callTool(client, tool, args);
      assert.equal(answer.isError, false, `${tool}: ${JSON.stringify(answer.body)}`);
      assert.deepEqual(answer.body, await v1Body(t, key.token, url), `${tool} answers as GET ${url}`);
    }
    const projects = await callTool(client, 'list_projects', { org: 'mcp-key' });
    assert.deepEqual(
      projects.body.data.map((p: { name: string }) => p.name),
      ['Eval harness'],
    );
    const keys = await callTool(client, 'list_api_keys', { org: 'mcp-key' });
    assert.deepEqual(
      keys.body.data.map((k: { id: string }) => k.id),
      [key.id],
    );
    assert.ok(!JSON.stringify(keys.body).includes(key.token.slice(16)), 'no secret in the answer');
    const members = await callTool(client, 'list_members', { org: 'mcp-key', role: 'viewer' });
    assert.deepEqual(
      members.body.data.map((m: { email: string }) => m.email),
      ['viewer@mcp-key.example'],
    );
    const audit = await callTool(client, 'read_audit_log', { org: 'mcp-key', limit: 1 });
    assert.equal(audit.body.data.length, 1);
    assert.equal(typeof audit.body.next_cursor, 'string', 'more than one event: a next page');
  });

  it('acts for its user with an OAuth access token for the MCP resource, within the live role and the scopes', async (test: TestContext) => {
    const t = app();
    const { admin, orgId } = await setUpOrgWithAdmin(t, 'mcp-tok');
    const dev = await addMember(t, admin, 'mcp-tok', 'user', 'dev@mcp-tok.example');
    const token = await userAccessToken(t, dev.userId, {
      scope: 'profile:own projects:read members:read apikeys:read audit:read',
    });
    const client = await connectMcp(t, token, test);

    const me = await callTool(client, 'whoami');
    assert.deepEqual(me.body.principal, {
      kind: 'user',
      id: dev.userId,
      auth_method: 'oauth',
      read_only: false,
      scopes: ['profile:own', 'projects:read', 'members:read', 'apikeys:read', 'audit:read'],
    });
    assert.deepEqual(me.body.orgs, [{ id: orgId, slug: 'mcp-tok', name: 'mcp-tok Inc', role: 'user' }]);
    const orgs = await callTool(client, 'list_orgs');
    assert.deepEqual(orgs.body, { data: me.body.orgs });
    assert.equal((await callTool(client, 'list_projects', { org: 'mcp-tok' })).isError, false);
    const members = await callTool(client, 'list_members', { org: 'mcp-tok' });
    assert.equal(members.isError, false, JSON.stringify(members.body));
    assert.equal(members.body.data.length, 2);
    // A user's keys are their own: the admin's key (made for the test) is not among them.
    await createKey(t, admin, 'mcp-tok', { name: 'admin-only' });
    const keys = await callTool(client, 'list_api_keys', { org: 'mcp-tok' });
    assert.deepEqual(keys.body, { data: [], next_cursor: null });
    // The role decides: a user is no admin, whatever the token's scopes say.
    assertToolError(await callTool(client, 'read_audit_log', { org: 'mcp-tok' }), 'permission_denied');

    // Promoted, the same token reads the audit log at once: the role is looked up live.
    const promoted = await asBrowser(t, admin, {
      method: 'PATCH',
      url: `/v1/orgs/mcp-tok/members/${dev.userId}`,
      payload: { role: 'admin' },
    });
    assert.equal(promoted.statusCode, 200, promoted.body);
    const audit = await callTool(client, 'read_audit_log', { org: 'mcp-tok', action: 'member.role_changed' });
    assert.equal(audit.isError, false, JSON.stringify(audit.body));
    assert.equal(audit.body.data[0].target.id, dev.userId);
  });

  it('refuses bad tool input by name, with the stable code of the service that refused it', async (test: TestContext) => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-input');
    const { token } = await createKey(t, admin, 'mcp-input');
    const client = await connectMcp(t, token, test);

    const unknown = await client.callTool({
      name: 'list_projects',
      arguments: { org: 'mcp-input', sql: '1' },
    });
    assert.equal(unknown.isError, true);
    assert.match((unknown.content as { text: string }[])[0]!.text, /sql/);
    const tooLarge = await client.callTool({
      name: 'list_projects',
      arguments: { org: 'mcp-input', limit: 201 },
    });
    assert.equal(tooLarge.isError, true);
    assert.match((tooLarge.content as { text: string }[])[0]!.text, /limit/);
    assertToolError(
      await callTool(client, 'list_projects', { org: 'mcp-input', cursor: 'not-a-cursor' }),
      'invalid_request',
      'cursor',
    );
  });

  it('is stateless: no session id, JSON answers, and 405 with Allow for GET and DELETE', async () => {
    const t = app();
    const { admin } = await setUpOrgWithAdmin(t, 'mcp-http');
    const { token } = await createKey(t, admin, 'mcp-http');
    const authorization = `Bearer ${token}`;

    const initialize = await rawMcp(t, {
      headers: { authorization },
      body: {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'curl', version: '0' },
        },
      },
    });
    assert.equal(initialize.status, 200, initialize.text);
    assert.match(initialize.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(initialize.headers.get('mcp-session-id'), null);
    assert.equal(initialize.headers.get('cache-control'), 'no-store');
    assert.match(initialize.headers.get('x-request-id') ?? '', /./);
    assert.equal(initialize.json().result.serverInfo.name, 'gatehouse');

    // Without initialize first: every POST stands alone.
    const list = await rawMcp(t, {
      headers: { authorization, 'mcp-protocol-version': '2025-06-18' },
      body: { jsonrpc: '2.0', id: 2, method: 'tools/list' },
    });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.json().result.tools.length, 6);

    for (const method of ['GET', 'DELETE']) {
      const refused = await rawMcp(t, { method, headers: { authorization } });
      assert.equal(refused.status, 405, `${method}: ${refused.text}`);
      assert.equal(refused.headers.get('allow'), 'POST, OPTIONS');
      assert.equal(refused.json().error.code, 'method_not_allowed');
    }
    const preflight = await rawMcp(t, {
      method: 'OPTIONS',
      headers: { origin: 'https://inspector.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
  });
});
