// The OIDC relying party (SPEC §3), all protocol work done by `openid-client`: discovery,
// the authorization URL with PKCE S256, state and nonce, and the code exchange with ID-token
// validation (iss, aud, azp, exp, nonce, signature). What Gatehouse adds around it:
// - signatures are always verified against the IdP's JWKS (openid-client skips this for
//   tokens from the token endpoint unless non-repudiation checks are on);
// - an unknown `kid` always triggers one JWKS refetch (the library waits 60 s after a fetch);
// - `iat` must be recent and not in the future beyond the allowed skew, and `azp`, when
//   present, must name this client (the library checks it only for several audiences);
// - time is Gatehouse's clock, so the checks use the same time as everything else.
import { importJWK } from 'jose';
import * as oidc from 'openid-client';
import type { Clock } from '../../core/clock.ts';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export interface OidcSettings {
  readonly issuer: string;
  readonly client_id: string;
  readonly token_endpoint_auth_method: ClientAuthMethod;
  readonly scopes: readonly string[];
  readonly groups_claim: string;
  /** Merge the userinfo endpoint's claims over the ID token's. */
  readonly use_userinfo: boolean;
}

export type OidcSecret =
  | { readonly kind: 'client_secret'; readonly value: string }
  | { readonly kind: 'private_key'; readonly jwk: Record<string, unknown> };

export interface OidcConnection {
  readonly id: string;
  readonly updatedAt: number;
  readonly settings: OidcSettings;
  readonly secret: OidcSecret | undefined;
}

export interface VerifiedSignIn {
  readonly subject: string;
  /** ID-token claims with the userinfo claims merged over them (where enabled). */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly userinfoUsed: boolean;
}

/** The step of a sign-in that failed, for the test sign-in report and the audit log. */
export class OidcStepError extends Error {
  constructor(
    readonly step: 'discovery' | 'authorization_response' | 'token_exchange' | 'id_token' | 'userinfo',
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`${step}: ${reason}`, { cause });
    this.name = 'OidcStepError';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https, or http on a loopback address (a local IdP in development and tests). */
export function isAcceptableIssuer(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.search || url.hash || url.username || url.password) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

export interface OidcClientOptions {
  readonly clock: Clock;
  /** Allowed difference between our clock and the IdP's, for exp/iat/nbf. */
  readonly clockToleranceSeconds: number;
  /** Oldest `iat` accepted: an ID token from the token endpoint is minted at the exchange. */
  readonly maxIdTokenAgeSeconds: number;
  readonly timeoutSeconds: number;
}

const JWKS_REFETCH_AGE_S = 60;

export function createOidcClient(options: OidcClientOptions) {
  async function clientAuth(connection: OidcConnection): Promise<oidc.ClientAuth> {
    const { settings, secret } = connection;
    if (settings.token_endpoint_auth_method === 'private_key_jwt') {
      if (secret?.kind !== 'private_key')
        throw new OidcStepError('discovery', 'no private key for private_key_jwt');
      const { jwk } = secret;
      const key = await importJWK(jwk, typeof jwk.alg === 'string' ? jwk.alg : 'ES256');
      return oidc.PrivateKeyJwt({
        key: key as oidc.CryptoKey,
        kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
      });
    }
    if (secret?.kind !== 'client_secret') throw new OidcStepError('discovery', 'no client secret');
    return settings.token_endpoint_auth_method === 'client_secret_post'
      ? oidc.ClientSecretPost(secret.value)
      : oidc.ClientSecretBasic(secret.value);
  }

  function skewSeconds(): number {
    return Math.round((options.clock.now() - Date.now()) / 1000);
  }

  interface Discovered {
    readonly key: string;
    readonly server: Promise<oidc.ServerMetadata>;
    /** The IdP's JWKS as last fetched, carried from one sign-in to the next. */
    jwks?: oidc.ExportedJWKSCache;
  }
  const discovered = new Map<string, Discovered>();

  async function discoverServer(connection: OidcConnection): Promise<oidc.ServerMetadata> {
    const issuer = new URL(connection.settings.issuer);
    try {
      const config = await oidc.discovery(issuer, connection.settings.client_id, undefined, undefined, {
        timeout: options.timeoutSeconds,
        execute: issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      });
      return { ...config.serverMetadata() };
    } catch (error) {
      throw new OidcStepError('discovery', describe(error), error);
    }
  }

  /** The IdP's discovery document, fetched once per connection version; a failure is not kept. */
  function discovery(connection: OidcConnection): Discovered {
    const key = String(connection.updatedAt);
    const cached = discovered.get(connection.id);
    if (cached && cached.key === key) return cached;
    const entry: Discovered = { key, server: discoverServer(connection) };
    discovered.set(connection.id, entry);
    entry.server.catch(() => {
      if (discovered.get(connection.id) === entry) discovered.delete(connection.id);
    });
    return entry;
  }

  /**
   * A Configuration for one sign-in, from the cached discovery document. Its JWKS cache is
   * seeded with the keys fetched last time, marked old enough that a `kid` they lack makes
   * the library fetch the JWKS again at once (it would otherwise wait 60 s after a fetch).
   */
  async function configuration(connection: OidcConnection, entry: Discovered): Promise<oidc.Configuration> {
    const server = await entry.server;
    const config = new oidc.Configuration(
      structuredClone(server),
      connection.settings.client_id,
      { [oidc.clockSkew]: skewSeconds(), [oidc.clockTolerance]: options.clockToleranceSeconds },
      await clientAuth(connection),
    );
    config.timeout = options.timeoutSeconds;
    if (new URL(connection.settings.issuer).protocol === 'http:') oidc.allowInsecureRequests(config);
    // Verify the ID token's signature against the IdP's JWKS even though it comes over the
    // back channel: a token endpoint behind a misconfigured proxy must not be trusted blindly.
    oidc.enableNonRepudiationChecks(config);
    if (entry.jwks) {
      const now = Math.floor(Date.now() / 1000);
      oidc.setJwksCache(config, {
        jwks: entry.jwks.jwks,
        uat: Math.min(entry.jwks.uat, now - JWKS_REFETCH_AGE_S),
      });
    }
    return config;
  }

  async function authorizationUrl(
    connection: OidcConnection,
    input: { redirectUri: string; state: string; nonce: string; codeVerifier: string; loginHint?: string },
  ): Promise<URL> {
    const config = await configuration(connection, discovery(connection));
    const params: Record<string, string> = {
      redirect_uri: input.redirectUri,
      response_type: 'code',
      scope: connection.settings.scopes.join(' '),
      state: input.state,
      nonce: input.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(input.codeVerifier),
      code_challenge_method: 'S256',
    };
    if (input.loginHint) params.login_hint = input.loginHint;
    return oidc.buildAuthorizationUrl(config, params);
  }

  function checkIssuedAt(claims: Record<string, unknown>): void {
    const iat = claims.iat;
    if (typeof iat !== 'number') throw new OidcStepError('id_token', 'iat missing');
    const now = options.clock.now() / 1000;
    if (iat > now + options.clockToleranceSeconds)
      throw new OidcStepError('id_token', 'iat is in the future');
    if (iat < now - options.maxIdTokenAgeSeconds - options.clockToleranceSeconds)
      throw new OidcStepError('id_token', 'iat is too old');
  }

  /** Exchanges the code from the callback URL and returns the verified identity. */
  async function completeSignIn(
    connection: OidcConnection,
    callbackUrl: URL,
    expected: { state: string; nonce: string; codeVerifier: string },
  ): Promise<VerifiedSignIn> {
    const entry = discovery(connection);
    const config = await configuration(connection, entry);
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw new OidcStepError(stepOf(error), describe(error), error);
    } finally {
      entry.jwks = oidc.getJwksCache(config) ?? entry.jwks;
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new OidcStepError('id_token', 'no ID token');
    const claims: Record<string, unknown> = { ...idClaims };
    checkIssuedAt(claims);
    // The library checks azp only when aud lists several audiences; a token issued to another
    // client is refused whatever its aud.
    if (claims.azp !== undefined && claims.azp !== connection.settings.client_id)
      throw new OidcStepError('id_token', 'azp names another client');
    let userinfoUsed = false;
    if (connection.settings.use_userinfo && config.serverMetadata().userinfo_endpoint) {
      try {
        const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
        // The ID token's own claims (iss, aud, sub, nonce…) are never overridden by userinfo.
        for (const [name, value] of Object.entries(userinfo))
          if (!(name in PROTECTED_CLAIMS)) claims[name] = value;
        userinfoUsed = true;
      } catch (error) {
        throw new OidcStepError('userinfo', describe(error), error);
      }
    }
    return { subject: idClaims.sub, claims, userinfoUsed };
  }

  return { authorizationUrl, completeSignIn, forget: (id: string) => discovered.delete(id) };
}

export type OidcClient = ReturnType<typeof createOidcClient>;

const PROTECTED_CLAIMS: Readonly<Record<string, true>> = {
  iss: true,
  sub: true,
  aud: true,
  azp: true,
  exp: true,
  iat: true,
  nbf: true,
  nonce: true,
  auth_time: true,
  at_hash: true,
  c_hash: true,
};

function stepOf(error: unknown): OidcStepError['step'] {
  if (error instanceof oidc.AuthorizationResponseError) return 'authorization_response';
  if (error instanceof oidc.ResponseBodyError) return 'token_exchange';
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('OAUTH_')) {
    const message = (error as Error).message;
    if (/state|authorization response/i.test(message)) return 'authorization_response';
    return 'id_token';
  }
  return 'token_exchange';
}

/** A short reason for logs, audit and the test report: the library's message, no secrets. */
function describe(error: unknown): string {
  if (error instanceof oidc.AuthorizationResponseError)
    return `the IdP answered ${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  if (error instanceof oidc.ResponseBodyError)
    return `the token endpoint answered ${error.error}${error.error_description ? `: ${error.error_description}` : ''}`;
  if (error instanceof Error) {
    // openid-client puts the specific check (which claim, which key) in the cause.
    const cause =
      error.cause instanceof Error && error.cause.message !== error.message ? `: ${error.cause.message}` : '';
    const { code: raw } = error as Error & { code?: unknown };
    const code = typeof raw === 'string' ? ` (${raw})` : '';
    return `${error.message}${cause}${code}`.slice(0, 300);
  }
  return 'unknown error';
}
