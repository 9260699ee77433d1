// The whole journey of an MCP client (SPEC §4), with the official SDK's client and its OAuth
// support against a live Gatehouse: the 401 challenge, protected-resource and
// authorization-server metadata, dynamic registration — or, the second time, a Client ID
// Metadata Document served on loopback (GATEHOUSE_OAUTH_CLIENT_METADATA_INSECURE, the
// development setting) — the authorization request a person completes in a real Chromium
// (sign-in on /login, the consent page), the code exchanged for a token bound to /mcp, tool
// calls, and a refresh when the server refuses the access token.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Browser, BrowserContext } from 'playwright-core';
import { generateMasterKey } from '../../src/core/secrets.ts';
import { type RunningServer, startServer } from '../../src/main.ts';
import { TEST_PASSWORD } from '../helpers/app.ts';
import { backendKinds, createTestDatabase, type TestDatabase } from '../helpers/backends.ts';
import { browserTier, launchBrowser, newBoundedContext } from '../helpers/browser.ts';
import { freePort, runGatehouse } from '../helpers/process.ts';

const STEP_TIMEOUT_MS = 30_000;
const EMAIL = 'ada@journey.example';

interface ClientSide {
  readonly server: Server;
  /** The loopback redirect URI. */
  readonly url: string;
  /** Where the client's metadata document is served. */
  readonly documentUrl: string;
  readonly code: Promise<URL>;
  documentFetches: number;
}

/**
 * The MCP client's side on loopback: the redirect it listens on, which hands over the one code
 * it receives, and its Client ID Metadata Document.
 */
async function startClientSide(name: string): Promise<ClientSide> {
  let deliver: (url: URL) => void = () => {};
  const code = new Promise<URL>((resolve) => {
    deliver = resolve;
  });
  let port = 0;
  const urls = () => ({
    url: `http://127.0.0.1:${port}/callback`,
    documentUrl: `http://127.0.0.1:${port}/client.json`,
  });
  const side = { documentFetches: 0 } as { documentFetches: number };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/client.json') {
      side.documentFetches += 1;
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' });
      response.end(
        JSON.stringify({
          client_id: urls().documentUrl,
          client_name: name,
          redirect_uris: [urls().url],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'none',
        }),
      );
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this tab.');
    if (url.pathname === '/callback') deliver(url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  return Object.assign(side, { server, code, ...urls() });
}

/**
 * The SDK's OAuth client provider as an MCP client implements it: remembers its registration,
 * tokens and PKCE verifier, and sends the user's browser to the authorization URL.
 */
class JourneyClientProvider implements OAuthClientProvider {
  registration: OAuthClientInformationMixed | undefined;
  stored: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  refreshes = 0;

  constructor(
    readonly name: string,
    readonly redirect: string,
    readonly onAuthorize: (url: URL) => Promise<void>,
  ) {}

  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.name,
      redirect_uris: [this.redirect],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.registration;
  }
  saveClientInformation(information: OAuthClientInformationMixed) {
    this.registration = information;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens: OAuthTokens) {
    if (this.stored?.refresh_token !== undefined) this.refreshes += 1;
    this.stored = tokens;
  }
  async redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
    await this.onAuthorize(url);
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
}

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString());

for (const kind of backendKinds()) {
  describe(`an MCP client connects through OAuth [browser] [${kind}]`, browserTier(), () => {
    let testDatabase: TestDatabase | undefined;
    let dataDir: string | undefined;
    let server: RunningServer | undefined;
    let browser: Browser | undefined;
    let context: BrowserContext | undefined;
    let publicUrl = '';

    before(
      async () => {
        browser = await launchBrowser();
        testDatabase = await createTestDatabase(kind);
        dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-browser-mcp-'));
        const port = await freePort();
        publicUrl = `http://127.0.0.1:${port}`;
        const env = {
          GATEHOUSE_DATABASE_URL: testDatabase.url,
          GATEHOUSE_SECRET_KEY: generateMasterKey(),
          GATEHOUSE_DATA_DIR: dataDir,
          GATEHOUSE_PUBLIC_URL: publicUrl,
          // The client's metadata document is served on loopback over http in this test.
          GATEHOUSE_OAUTH_CLIENT_METADATA_HOSTS: '127.0.0.1',
          GATEHOUSE_OAUTH_CLIENT_METADATA_INSECURE: 'true',
        };
        const created = await runGatehouse(['admin', 'create', '--email', EMAIL, '--org', 'journey'], {
          env,
          stdin: `${TEST_PASSWORD}\n`,
        });
        assert.equal(created.code, 0, created.stderr);
        server = await startServer({
          ...env,
          GATEHOUSE_HOST: '127.0.0.1',
          GATEHOUSE_PORT: String(port),
          GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_TEST_LOG ?? 'silent',
        });
        context = await newBoundedContext(browser, publicUrl);
      },
      { timeout: STEP_TIMEOUT_MS },
    );
    after(async () => {
      await context?.close();
      await browser?.close();
      await server?.stop();
      await testDatabase?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    /**
     * The journey from the first 401 to tool calls and a refresh. `useDocument`: the client names
     * itself by its metadata document's URL instead of registering.
     */
    async function journey(name: string, useDocument: boolean) {
      const side = await startClientSide(name);
      const consentSeen: string[] = [];
      const provider = new JourneyClientProvider(name, side.url, async (url) => {
        // The person: opens the authorization URL, signs in if asked, reads and allows the consent.
        const page = await context!.newPage();
        await page.goto(url.href);
        const heading = page.getByRole('heading', { name: `Authorize ${name}?` });
        const email = page.getByLabel('Email');
        await heading.or(email).waitFor();
        if (await email.isVisible()) {
          await email.fill(EMAIL);
          await page.getByLabel('Password').fill(TEST_PASSWORD);
          await page.getByRole('button', { name: 'Sign in' }).click();
        }
        await heading.waitFor();
        consentSeen.push(await page.locator('main').innerText());
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.waitForURL((landed) => landed.href.startsWith(side.url));
        await page.close();
      });
      if (useDocument) provider.registration = { client_id: side.documentUrl };
      try {
        const mcpUrl = new URL('/mcp', publicUrl);
        const first = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
        await assert.rejects(
          new Client({ name: 'journey', version: '1.0.0' }).connect(first),
          UnauthorizedError,
        );
        const clientId = provider.registration?.client_id;
        if (useDocument)
          assert.equal(clientId, side.documentUrl, 'no registration: the URL is the client id');
        else {
          assert.ok(clientId, 'registered dynamically');
          assert.equal((provider.registration as { client_secret?: string }).client_secret, undefined);
        }
        const authorization = provider.authorizationUrl!;
        assert.equal(authorization.origin + authorization.pathname, `${publicUrl}/oauth/authorize`);
        assert.equal(authorization.searchParams.get('client_id'), clientId);
        assert.equal(authorization.searchParams.get('resource'), `${publicUrl}/mcp`);
        assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
        assert.match(consentSeen[0]!, /127\.0\.0\.1/, 'the consent page names the redirect host');
        assert.match(consentSeen[0]!, /program on your own computer/, 'and warns that it is this machine');

        const callback = await side.code;
        assert.equal(callback.searchParams.get('iss'), `${publicUrl}/oauth`);
        await first.finishAuth(callback.searchParams.get('code')!);
        const issued = provider.stored!;
        assert.ok(issued.refresh_token, 'a refresh token for a client holding the grant');
        assert.equal(claimsOf(issued.access_token).aud, `${publicUrl}/mcp`);
        assert.equal(claimsOf(issued.access_token).client_id, clientId);

        const client = new Client({ name: 'journey', version: '1.0.0' });
        await client.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
        const { tools } = await client.listTools();
        assert.ok(tools.some((tool) => tool.name === 'whoami'));
        const whoami = await client.callTool({ name: 'whoami', arguments: {} });
        assert.equal(whoami.isError, undefined, JSON.stringify(whoami));
        assert.match(JSON.stringify(whoami.structuredContent), /ada@journey\.example|usr_/);
        const orgs = await client.callTool({ name: 'list_orgs', arguments: {} });
        assert.match(JSON.stringify(orgs.structuredContent), /"journey"/);
        await client.close();

        // The server no longer accepts the access token (here: it was altered): the SDK
        // refreshes with its refresh token, which rotates, and carries on.
        const [header, payload] = issued.access_token.split('.');
        provider.stored = { ...issued, access_token: `${header}.${payload}.${'A'.repeat(86)}` };
        const again = new Client({ name: 'journey', version: '1.0.0' });
        await again.connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
        assert.equal(provider.refreshes, 1, 'one refresh');
        assert.notEqual(provider.stored?.refresh_token, issued.refresh_token, 'the refresh token rotated');
        const projects = await again.callTool({ name: 'list_projects', arguments: { org: 'journey' } });
        assert.equal(projects.isError, undefined, JSON.stringify(projects));
        await again.close();
        return side;
      } finally {
        side.server.close();
      }
    }

    it('discovers, registers, has the user sign in and consent, calls tools, and refreshes', {
      timeout: STEP_TIMEOUT_MS * 2,
    }, async () => {
      const side = await journey('Journey MCP Client', false);
      assert.equal(side.documentFetches, 0);
    });

    it('does the same for a client named by its Client ID Metadata Document, fetched once', {
      timeout: STEP_TIMEOUT_MS * 2,
    }, async () => {
      const discovery = await fetch(`${publicUrl}/.well-known/oauth-authorization-server`);
      const metadata = (await discovery.json()) as { client_id_metadata_document_supported?: boolean };
      assert.equal(metadata.client_id_metadata_document_supported, true);
      const side = await journey('Journey Document Client', true);
      assert.equal(side.documentFetches, 1, 'fetched once, then cached by its max-age');
    });
  });
}
