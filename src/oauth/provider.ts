// The OAuth 2.0 authorization server (SPEC §4): oidc-provider, configured here, mounted at
// /oauth by routes.ts. Gatehouse writes the policy, the library speaks the protocol:
// - every authorization code flow needs PKCE S256, confidential clients too (the library
//   asks it of public clients only); no implicit or password grant (only `code`);
// - access tokens for a resource are JWTs (RFC 9068) signed ES256 and audience-bound to the
//   resource asked for (RFC 8707); the scopes a token may carry are Gatehouse's permission
//   names, which authz narrows every decision to (authz/decide.ts);
// - refresh tokens rotate on every use (the library's default for public clients, here for
//   every client), and a spent one presented again revokes its grant (the adapter keeps
//   consumed tokens, oidc-provider revokes the grant when it sees one);
// - everything it stores goes through the database adapter, so any node can continue what
//   another started, and expiry is enforced there.
import type { Account, Configuration, KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import { orgPermissions, selfPermissions } from '../authz/index.ts';
import {
  renderDeviceCodePage,
  renderDeviceConfirmPage,
  renderDeviceDonePage,
  renderOauthErrorPage,
} from '../web/index.ts';
import { GRANT_CLAIM } from './access-tokens.ts';
import type { OauthAdapter } from './adapter.ts';
import { checkDynamicRegistration, LOOPBACK_HOSTS } from './registration-policy.ts';
import type { PrivateJwk } from './signing-keys.ts';

/** Where the authorization server lives under the public URL. */
export const OAUTH_PATH = '/oauth';
const DAY_SECONDS = 24 * 60 * 60;

export interface OauthProviderOptions {
  /** GATEHOUSE_PUBLIC_URL without a trailing slash. */
  readonly publicUrl: string;
  readonly Adapter: new (name: string) => OauthAdapter;
  /** Private signing keys, the current one first (it signs; all are published). */
  readonly signingKeys: readonly PrivateJwk[];
  /** Resource indicators tokens may be issued for (absolute URLs, no trailing slash). */
  readonly resources: readonly string[];
  readonly accessTokenTtlSeconds: number;
  /** Cookie signing keys for the library's own cookies (interaction and session). */
  readonly cookieKeys: readonly string[];
  /** The active Gatehouse user with this id, as the account tokens are issued for. */
  readonly findUser: (userId: string) => Promise<{ id: string; email: string; name: string } | undefined>;
  /** The user the request's Gatehouse browser session belongs to, if it carries a live one. */
  readonly signedInUser: (cookieHeader: string | undefined) => Promise<string | undefined>;
  /** Grants the user approved for the client on the consent page, newest first. */
  readonly rememberedGrants: (userId: string, clientId: string) => Promise<readonly string[]>;
  /** The claims of an access token (a JWT) this server issued while it is active (access-tokens.ts). */
  readonly introspectAccessToken: (token: string) => Promise<Readonly<Record<string, unknown>> | undefined>;
  /** Revokes a user's grant, for the client that asked (consents.ts). */
  readonly revokeGrant: (grantId: string, clientId: string) => Promise<void>;
  /** Whether clients may name themselves by a metadata document URL (some host allowed, or pinned). */
  readonly clientMetadataDocuments: boolean;
}

type OauthRoute = NonNullable<KoaContextWithOIDC['oidc']>['route'];

/**
 * RFC 7662 and RFC 7009 for JWT access tokens, which the library refuses as structured tokens
 * once it has authenticated the client: the answer is taken over then. A client learns about,
 * and revokes, only tokens issued to itself.
 */
function structuredTokenEndpoints(options: OauthProviderOptions) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    const route: OauthRoute | undefined = ctx.oidc?.route;
    if (route !== 'introspection' && route !== 'revocation') return;
    if (
      ctx.status !== 400 ||
      (ctx.body as { error?: unknown } | undefined)?.error !== 'unsupported_token_type'
    )
      return;
    const token = ctx.oidc.params?.token;
    const client = ctx.oidc.client;
    if (typeof token !== 'string' || !client) return;
    const claims = await options.introspectAccessToken(token);
    const own = claims !== undefined && claims.client_id === client.clientId ? claims : undefined;
    if (route === 'introspection') {
      ctx.status = 200;
      ctx.body = own ? { active: true, token_type: 'Bearer', ...own } : { active: false };
      return;
    }
    const grantId = own?.[GRANT_CLAIM];
    // A client-credentials token has no grant to revoke: the library's answer stands.
    if (own !== undefined && typeof grantId !== 'string') return;
    if (typeof grantId === 'string') await options.revokeGrant(grantId, client.clientId);
    // Unknown, inactive or another client's token: 200 all the same (RFC 7009 §2.2).
    ctx.status = 200;
    ctx.body = '';
  };
}

/** The pages the library renders itself, with the headers Gatehouse's own pages carry. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

function sendPage(ctx: KoaContextWithOIDC, body: string): void {
  ctx.set(PAGE_HEADERS);
  ctx.type = 'html';
  ctx.body = body;
}

const clientNameOf = (ctx: KoaContextWithOIDC) =>
  ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId ?? 'An application';

/** Where the browser is sent for sign-in and consent (interaction-routes.ts serves it). */
export const INTERACTION_PATH = `${OAUTH_PATH}/interaction`;

/** A loopback http redirect URI without its port, or undefined for any other URI. */
function withoutLoopbackPort(uri: string): string | undefined {
  const parsed = URL.parse(uri);
  if (parsed?.protocol !== 'http:' || !LOOPBACK_HOSTS.has(parsed.hostname)) return undefined;
  parsed.port = '';
  return parsed.href;
}

/**
 * RFC 8252 §7.3: a registered loopback redirect URI matches on any port, whatever the
 * client's application_type (the library does it for `native` only, and MCP clients
 * registering dynamically mostly leave application_type at `web` while binding a random port).
 */
export function loopbackRedirectAllowed(registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return true;
  const bare = withoutLoopbackPort(presented);
  return bare !== undefined && registered.some((uri) => withoutLoopbackPort(uri) === bare);
}

/** The scopes an access token may carry: Gatehouse's permission names. */
export const RESOURCE_SCOPES: readonly string[] = [...orgPermissions, ...selfPermissions];

export function oauthIssuer(publicUrl: string): string {
  return `${publicUrl}${OAUTH_PATH}`;
}

/**
 * Loaded when the server builds its app, not when a module imports this one: the operator
 * commands share the services but never serve OAuth, and on Node 20 the library prints an
 * "unsupported runtime" warning as it loads (Gatehouse supports Node 20; its tests run on 20
 * and 24).
 */
export async function createOauthProvider(options: OauthProviderOptions): Promise<Provider> {
  const { default: ProviderClass, errors, interactionPolicy } = await import('oidc-provider');
  const policy = interactionPolicy.base();
  // The library's own sign-in session (its cookie) is not Gatehouse's: a user who signed out
  // of Gatehouse, or another user signed in since, must sign in again before a code is issued.
  policy.get('login')?.checks.add(
    new interactionPolicy.Check(
      'gatehouse_session',
      'the Gatehouse session is missing or belongs to another user',
      async (ctx: KoaContextWithOIDC) => {
        const user = await options.signedInUser(ctx.get('cookie') || undefined);
        return user === undefined || user !== ctx.oidc.session?.accountId
          ? interactionPolicy.Check.REQUEST_PROMPT
          : interactionPolicy.Check.NO_NEED_TO_PROMPT;
      },
    ),
  );
  const resources = new Set(options.resources);
  const scope = RESOURCE_SCOPES.join(' ');
  const configuration: Configuration = {
    adapter: options.Adapter as unknown as Configuration['adapter'],
    jwks: { keys: options.signingKeys.map((key) => ({ ...key })) as never },
    clients: [],
    responseTypes: ['code'],
    // ES256 everywhere: the only signing algorithm enabled (RS256 would be 10× slower to sign).
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // Dynamically registered clients are public (SPEC §4); confidential clients are made
      // by an admin and name their method.
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: 'ES256',
    },
    // Advertised when a client may use its metadata document's URL as client_id (the adapter
    // resolves those): MCP clients then skip registration.
    discovery: options.clientMetadataDocuments ? { client_id_metadata_document_supported: true } : {},
    interactions: {
      policy,
      url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`,
    },
    findAccount: async (_ctx, sub): Promise<Account | undefined> => {
      const user = await options.findUser(sub);
      if (!user) return undefined;
      return { accountId: user.id, claims: () => ({ sub: user.id, email: user.email, name: user.name }) };
    },
    // Consent is remembered per user and client (oauth_consents), not per browser as the
    // library's default (its session's grant for the client) would have it.
    loadExistingGrant: async (ctx) => {
      const accountId = ctx.oidc.session?.accountId;
      const clientId = ctx.oidc.client?.clientId;
      if (!accountId || !clientId) return undefined;
      const submitted = ctx.oidc.result?.consent?.grantId;
      const candidates = submitted ? [submitted] : await options.rememberedGrants(accountId, clientId);
      // Each consent covers one resource: the newest grant for the resource asked for.
      const resource = ctx.oidc.params?.resource;
      for (const grantId of candidates) {
        const grant = await ctx.oidc.provider.Grant.find(grantId);
        if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) continue;
        if (typeof resource === 'string' && !grant.getResourceScope(resource)) continue;
        return grant;
      }
      return undefined;
    },
    // The grant rides in user tokens so a revoked one ends them at once (access-tokens.ts).
    extraTokenClaims: (_ctx, token) =>
      token.kind === 'AccessToken' && token.grantId ? { [GRANT_CLAIM]: token.grantId } : undefined,
    // Gatehouse's own look for the pages the library renders (its defaults load fonts from
    // the internet, which an air-gapped install must never do).
    renderError: async (ctx, out) =>
      sendPage(ctx, renderOauthErrorPage(String(out.error), out.error_description)),
    // A client that holds the refresh_token grant gets a refresh token; the library's default
    // also wants the `offline_access` scope, which OAuth-only clients (MCP, the CLI) do not ask for.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    // And it outlives the library's sign-in session (its cookie, a day long): without
    // `offline_access` the library would tie it to that session, and an MCP client or the CLI
    // would have to send its user through the browser again every day. A refresh token ends
    // with its own lifetime, its grant's, or a revocation (/v1/me/grants, replay detection).
    expiresWithSession: async () => false,
    extraClientMetadata: {
      // Registered by nothing but this validator: marks, and checks, dynamic registrations.
      properties: ['gatehouse_registration'],
      validator: (ctx, key, _value, metadata) => {
        if (key !== 'gatehouse_registration' || ctx?.oidc?.route !== 'registration') return;
        checkDynamicRegistration(errors, metadata);
        metadata.gatehouse_registration = 'dynamic';
      },
    },
    scopes: ['openid', 'offline_access', ...RESOURCE_SCOPES],
    pkce: { required: () => true },
    routes: {
      authorization: '/authorize',
      token: '/token',
      jwks: '/jwks',
      introspection: '/introspect',
      revocation: '/revoke',
      registration: '/register',
      device_authorization: '/device/auth',
      code_verification: '/device',
      end_session: '/logout',
      userinfo: '/userinfo',
    },
    cookies: { keys: [...options.cookieKeys] },
    // Rotate every client's refresh token on every use, not only public clients'.
    rotateRefreshToken: true,
    features: {
      devInteractions: { enabled: false },
      // RFC 7591, open (MCP clients register themselves); routes.ts limits it per address and
      // registration-policy.ts holds the policy (run by extraClientMetadata's validator). No registration access token: clients cannot
      // read or change their registration afterwards, an admin revokes them.
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: false },
      // RFC 8628 for devices without a browser (the CLI's --device): the user enters the code
      // at /oauth/device, then signs in and consents through the same interaction pages.
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        userCodeInputSource: async (ctx, form, _out, error) =>
          sendPage(
            ctx,
            renderDeviceCodePage({
              form,
              error:
                error === undefined
                  ? undefined
                  : error.name === 'AbortedError'
                    ? 'The sign-in was cancelled. Enter the code again to start over.'
                    : 'That code is not valid, or it expired. Check the code on your device.',
            }),
          ),
        userCodeConfirmSource: async (ctx, form, _client, _deviceInfo, userCode) =>
          sendPage(ctx, renderDeviceConfirmPage({ form, clientName: clientNameOf(ctx), userCode })),
        successSource: async (ctx) => sendPage(ctx, renderDeviceDonePage(clientNameOf(ctx))),
      },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? undefined,
        // The resource consented to is the one every token of the grant stays bound to.
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          if (!resources.has(resourceIndicator)) throw new errors.InvalidTarget();
          return {
            scope,
            audience: resourceIndicator,
            accessTokenTTL: options.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['ES256'],
    },
    ttl: {
      AccessToken: options.accessTokenTtlSeconds,
      ClientCredentials: options.accessTokenTtlSeconds,
      // Consent lasts 30 days; refresh tokens live 14 days from their last use (rotated on
      // every use), none beyond the grant. Sign-in and consent must finish within 10 minutes.
      Grant: 30 * DAY_SECONDS,
      RefreshToken: 14 * DAY_SECONDS,
      Session: DAY_SECONDS,
      Interaction: 10 * 60,
      // The code a device shows must be entered within 10 minutes (the library's own default,
      // stated here so it stops warning that it was not).
      DeviceCode: 10 * 60,
    },
  };
  const provider = new ProviderClass(oauthIssuer(options.publicUrl), configuration);
  // The library builds its URLs from X-Forwarded-Proto/Host and reads the client address from
  // X-Forwarded-For, believing them from anyone once `proxy` is on. routes.ts sets all three
  // on every request from what Fastify concluded with GATEHOUSE_TRUST_PROXY, so only a
  // trusted proxy's word reaches it.
  provider.proxy = true;
  provider.use(structuredTokenEndpoints(options));
  // The one extension point for redirect URI matching is the model's method.
  provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(
    this: { redirectUris: string[] },
    uri: string,
  ) {
    return loopbackRedirectAllowed(this.redirectUris, uri);
  };
  return provider;
}
