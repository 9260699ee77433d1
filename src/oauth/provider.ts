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
import type { Configuration, default as Provider } from 'oidc-provider';
import { orgPermissions, selfPermissions } from '../authz/index.ts';
import type { OauthAdapter } from './adapter.ts';
import type { PrivateJwk } from './signing-keys.ts';

/** Where the authorization server lives under the public URL. */
export const OAUTH_PATH = '/oauth';

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
  const { default: ProviderClass, errors } = await import('oidc-provider');
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
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
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
    },
  };
  const provider = new ProviderClass(oauthIssuer(options.publicUrl), configuration);
  // The library builds its URLs from X-Forwarded-Proto/Host and reads the client address from
  // X-Forwarded-For, believing them from anyone once `proxy` is on. routes.ts sets all three
  // on every request from what Fastify concluded with GATEHOUSE_TRUST_PROXY, so only a
  // trusted proxy's word reaches it.
  provider.proxy = true;
  return provider;
}
