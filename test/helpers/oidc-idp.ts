// A real OpenID Connect identity provider (oidc-provider) for integration tests: our relying
// party talks to a certified OP over http://127.0.0.1, and `authorize()` plays the user's
// browser at the IdP so a test can sign in without a real browser.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface TestIdpUser {
  sub: string;
  email: string;
  email_verified?: boolean; // default true
  name?: string;
  groups?: string[]; // emitted as the `groups` claim (in the ID token AND userinfo)
  extraClaims?: Record<string, unknown>; // emitted as-is in ID token and userinfo
}

export interface StartTestOidcIdpOptions {
  redirectUris: string[]; // registered for the one client
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt'; // default client_secret_basic
  clientJwks?: { keys: object[] }; // public JWKS of the client, for private_key_jwt
  users?: TestIdpUser[];
}

export interface TestOidcIdp {
  readonly issuer: string; // e.g. http://127.0.0.1:41234 (no trailing slash)
  readonly clientId: string;
  readonly clientSecret: string;
  setUser(user: TestIdpUser): void; // add or replace (by email) — tests change groups between sign-ins
  rotateSigningKey(): Promise<void>; // new RS256 key with a new kid; the old key is dropped from the JWKS
  /**
   * Plays the user's browser at the IdP: GETs the authorization URL our relying party
   * redirected to, signs in as `loginAs` (email of a user; default: the request's
   * login_hint), consents, and follows the IdP's own redirects with its own cookie jar,
   * stopping at the first redirect whose URL is NOT on the IdP's origin. Returns that URL
   * (our callback with code & state, or with error=...). Never requests our callback.
   *
   * Every call is a fresh browser (empty cookie jar), so there is never an IdP session to
   * reuse and `loginAs` always decides who signs in. An email with no user ends the flow
   * with error=access_denied, the way a user who cannot sign in would.
   */
  authorize(authorizationUrl: string, options?: { loginAs?: string }): Promise<URL>;
  close(): Promise<void>;
}

// oidc-provider ships no type declarations (they live in @types/oidc-provider, which this
// project does not depend on), so it is loaded through a non-literal specifier and narrowed
// to the small surface used here rather than typed as `any`.
interface OidcInteraction {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}

interface OidcGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}

interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  Grant: new (properties: { accountId: string; clientId: string }) => OidcGrant;
}

type OidcProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;

const OIDC_PROVIDER_MODULE: string = 'oidc-provider';

async function loadProvider(): Promise<OidcProviderConstructor> {
  const loaded: unknown = await import(OIDC_PROVIDER_MODULE);
  if (
    typeof loaded !== 'object' ||
    loaded === null ||
    !('Provider' in loaded) ||
    typeof loaded.Provider !== 'function'
  )
    throw new Error('oidc-provider does not export a Provider class');
  return loaded.Provider as OidcProviderConstructor;
}

/** The header `authorize()` sends to tell our interaction handler whom to sign in as. */
const LOGIN_AS_HEADER = 'x-test-idp-login-as';
const INTERACTION_PATH = /^\/interaction\/([^/]+)$/;
const MAX_REDIRECTS = 20;

/**
 * oidc-provider's storage, held here rather than in the provider so that a rebuilt provider
 * (new signing key, new claim names) keeps every session, interaction, grant and code.
 */
class SharedStore {
  readonly entries = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  readonly grants = new Map<string, Set<string>>();
  readonly sessionUids = new Map<string, string>();
  readonly userCodes = new Map<string, string>();

  adapterFor(model: string): StoreAdapter {
    return new StoreAdapter(model, this);
  }
}

// The adapter contract of oidc-provider (upsert/find/findByUid/findByUserCode/consume/
// destroy/revokeByGrantId), kept in memory: the IdP is a test peer and lives as long as a test.
class StoreAdapter {
  constructor(
    private readonly model: string,
    private readonly store: SharedStore,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const expiresAt =
      typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
    this.store.entries.set(key, { payload, expiresAt });
    if (this.model === 'Session' && typeof payload.uid === 'string')
      this.store.sessionUids.set(payload.uid, id);
    if (typeof payload.userCode === 'string') this.store.userCodes.set(payload.userCode, id);
    if (typeof payload.grantId === 'string') {
      const members = this.store.grants.get(payload.grantId) ?? new Set<string>();
      members.add(key);
      this.store.grants.set(payload.grantId, members);
    }
  }

  async find(id: string | undefined): Promise<Record<string, unknown> | undefined> {
    if (id === undefined) return undefined;
    const entry = this.store.entries.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.store.entries.delete(this.key(id));
      return undefined;
    }
    return entry.payload;
  }

  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    return this.find(this.store.sessionUids.get(uid));
  }

  async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
    return this.find(this.store.userCodes.get(userCode));
  }

  async consume(id: string): Promise<void> {
    const entry = this.store.entries.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const key of this.store.grants.get(grantId) ?? []) this.store.entries.delete(key);
    this.store.grants.delete(grantId);
  }
}

/**
 * The cookie jar of the browser `authorize()` plays: enough of RFC 6265 (path scoping,
 * deletion by expiry) for oidc-provider's interaction, resume and session cookies.
 */
class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string }>();

  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const equals = pair.indexOf('=');
      if (equals <= 0) continue;
      const name = pair.slice(0, equals).trim();
      const value = pair.slice(equals + 1).trim();
      let path = url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/';
      let expired = value === '';
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=');
        const attributeValue = rest.join('=').trim();
        switch (key.trim().toLowerCase()) {
          case 'path':
            if (attributeValue.startsWith('/')) path = attributeValue;
            break;
          case 'expires':
            if (Date.parse(attributeValue) <= Date.now()) expired = true;
            break;
          case 'max-age':
            if (Number(attributeValue) <= 0) expired = true;
            break;
        }
      }
      const key = `${name};${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  header(url: URL): string {
    const matching = [...this.cookies.values()].filter(
      ({ path }) =>
        url.pathname === path ||
        (url.pathname.startsWith(path) && (path.endsWith('/') || url.pathname[path.length] === '/')),
    );
    // Longer paths first, as browsers send them.
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map(({ name, value }) => `${name}=${value}`).join('; ');
  }
}

async function generateSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

/** The endpoints where oidc-provider authenticates the client (token, pushed authorization requests). */
const CLIENT_AUTH_PATHS = new Set(['/token', '/request']);

/**
 * oidc-provider accepts client_secret_basic and client_secret_post interchangeably for either
 * registration; real IdPs may not, so the registered one is enforced here, from the header alone.
 */
function clientAuthMismatch(method: string, authorization: string | undefined): string | undefined {
  const basic = authorization?.toLowerCase().startsWith('basic ') === true;
  if (method === 'client_secret_basic' && !basic)
    return 'the client is registered for client_secret_basic: send an Authorization: Basic header';
  if (method !== 'client_secret_basic' && basic)
    return `the client is registered for ${method}: do not send an Authorization: Basic header`;
  return undefined;
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value : undefined;
}

/** The claims of a user, as both the ID token and userinfo may carry them. */
function claimsOf(user: TestIdpUser): Record<string, unknown> {
  return {
    // Extra claims go first so that they cannot overwrite the fields that have their own option.
    ...user.extraClaims,
    email: user.email,
    email_verified: user.email_verified ?? true,
    ...(user.name === undefined ? {} : { name: user.name }),
    ...(user.groups === undefined ? {} : { groups: user.groups }),
    sub: user.sub,
  };
}

export async function startTestOidcIdp(options: StartTestOidcIdpOptions): Promise<TestOidcIdp> {
  const Provider = await loadProvider();
  const clientId = 'gatehouse-test-client';
  const clientSecret = randomBytes(32).toString('base64url');
  const authMethod = options.tokenEndpointAuthMethod ?? 'client_secret_basic';
  if (authMethod === 'private_key_jwt' && !options.clientJwks)
    throw new Error('private_key_jwt needs clientJwks (the public JWKS of the client)');

  const users = new Map<string, TestIdpUser>(); // by email
  for (const user of options.users ?? []) users.set(user.email, user);
  const store = new SharedStore();
  // Cookie signing keys outlive a provider rebuild, so a browser mid-flow keeps its cookies.
  const cookieKeys = [randomBytes(32).toString('base64url')];
  let signingKey = await generateSigningKey();

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  /** Names in users' extraClaims: oidc-provider only emits claims its configuration names. */
  const extraClaimNames = (): string[] => [
    ...new Set([...users.values()].flatMap((user) => Object.keys(user.extraClaims ?? {}))),
  ];
  let configuredExtraClaims: string[] = [];

  const build = (): { provider: OidcProvider; handle: ReturnType<OidcProvider['callback']> } => {
    configuredExtraClaims = extraClaimNames();
    const provider = new Provider(issuer, {
      adapter: (model: string) => store.adapterFor(model),
      clients: [
        {
          client_id: clientId,
          ...(authMethod === 'private_key_jwt'
            ? { jwks: options.clientJwks }
            : { client_secret: clientSecret }),
          redirect_uris: options.redirectUris,
          response_types: ['code'],
          grant_types: ['authorization_code'],
          token_endpoint_auth_method: authMethod,
          id_token_signed_response_alg: 'RS256',
        },
      ],
      jwks: { keys: [signingKey] },
      // Scope → claims. Extra claims ride on `openid` so that every sign-in carries them.
      claims: {
        openid: ['sub', ...configuredExtraClaims],
        email: ['email', 'email_verified'],
        profile: ['name'],
        groups: ['groups'],
      },
      scopes: ['openid', 'email', 'profile', 'groups'],
      responseTypes: ['code'],
      // By default claims requested by scope go to userinfo only when an access token is issued;
      // real IdPs (and our relying party) put them in the ID token as well.
      conformIdTokenClaims: false,
      enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
      pkce: { required: () => true },
      features: { devInteractions: { enabled: false } },
      interactions: {
        url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      // Plain http on the loopback: cookies must not be Secure (the proxy setting stays off, so
      // oidc-provider sees the connection as it is).
      cookies: { keys: cookieKeys, long: { secure: false }, short: { secure: false } },
      findAccount: async (_ctx: unknown, sub: string) => {
        const user = [...users.values()].find((candidate) => candidate.sub === sub);
        if (!user) return undefined;
        // Claims are read at token and userinfo time, so setUser() between sign-ins shows.
        return { accountId: sub, claims: async () => claimsOf(user) };
      },
      // Errors that cannot be redirected to the client come back as JSON, for readable test failures.
      renderError: async (
        ctx: { type: string; body: unknown },
        out: Record<string, unknown>,
        error: unknown,
      ) => {
        ctx.type = 'json';
        ctx.body = { ...out, detail: error instanceof Error ? error.message : String(error) };
      },
    });
    return { provider, handle: provider.callback() };
  };

  let current = build();

  const interaction = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { provider } = current;
    const details = await provider.interactionDetails(req, res);
    const { prompt, params } = details;
    if (prompt.name === 'login') {
      const header = req.headers[LOGIN_AS_HEADER];
      const email = typeof header === 'string' ? header : params.login_hint;
      const user = typeof email === 'string' ? users.get(email) : undefined;
      const result = user
        ? { login: { accountId: user.sub } }
        : {
            error: 'access_denied',
            error_description: `the test IdP has no user ${JSON.stringify(email ?? null)}`,
          };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      return;
    }
    if (prompt.name === 'consent') {
      const accountId = details.session?.accountId;
      const requestedClientId = params.client_id;
      if (typeof accountId !== 'string' || typeof requestedClientId !== 'string')
        throw new Error('consent interaction without a signed-in account or client');
      const grant = new provider.Grant({ accountId, clientId: requestedClientId });
      const scope = stringArray(prompt.details.missingOIDCScope);
      if (scope) grant.addOIDCScope(scope.join(' '));
      const claims = stringArray(prompt.details.missingOIDCClaims);
      if (claims) grant.addOIDCClaims(claims);
      const resourceScopes = prompt.details.missingResourceScopes;
      if (typeof resourceScopes === 'object' && resourceScopes !== null) {
        for (const [indicator, scopes] of Object.entries(resourceScopes)) {
          const list = stringArray(scopes);
          if (list) grant.addResourceScope(indicator, list.join(' '));
        }
      }
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
      return;
    }
    throw new Error(`the test IdP does not handle the ${prompt.name} prompt`);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    if (req.method === 'POST' && CLIENT_AUTH_PATHS.has(path)) {
      const mismatch = clientAuthMismatch(authMethod, req.headers.authorization);
      if (mismatch) {
        res.statusCode = 401;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: 'invalid_client', error_description: mismatch }));
        return;
      }
    }
    const work =
      req.method === 'GET' && INTERACTION_PATH.test(path) ? interaction(req, res) : current.handle(req, res);
    work.catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.statusCode = 400;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end(`test IdP: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  const authorize = async (authorizationUrl: string, authorizeOptions: { loginAs?: string } = {}) => {
    let url = new URL(authorizationUrl);
    if (url.origin !== issuer) throw new Error(`${url.origin} is not the test IdP (${issuer})`);
    const jar = new CookieJar();
    for (let hop = 0; hop < MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = {};
      const cookie = jar.header(url);
      if (cookie) headers.cookie = cookie;
      if (authorizeOptions.loginAs !== undefined) headers[LOGIN_AS_HEADER] = authorizeOptions.loginAs;
      const response = await fetch(url, { redirect: 'manual', headers });
      jar.store(url, response.headers.getSetCookie());
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        const next = new URL(location, url);
        if (next.origin !== issuer) return next;
        url = next;
        continue;
      }
      const body = await response.text();
      throw new Error(
        `test IdP answered ${response.status} at ${url.pathname} instead of redirecting: ${body.slice(0, 1000)}`,
      );
    }
    throw new Error(`test IdP redirected more than ${MAX_REDIRECTS} times`);
  };

  return {
    issuer,
    clientId,
    clientSecret,
    setUser(user: TestIdpUser): void {
      users.set(user.email, user);
      // A claim name the configuration does not list would be dropped silently: rebuild with it.
      if (extraClaimNames().some((name) => !configuredExtraClaims.includes(name))) current = build();
    },
    async rotateSigningKey(): Promise<void> {
      // oidc-provider reads `jwks` only at construction; a new provider over the same store
      // signs with the new key and publishes only it, while sessions and codes carry over.
      signingKey = await generateSigningKey();
      current = build();
    },
    authorize,
    close(): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
