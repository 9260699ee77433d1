// The CLI's OAuth (SPEC §4, §9), all through openid-client: the server found from the API's
// protected-resource metadata (RFC 9728), the CLI registered once per authorization server as
// a public native client (RFC 7591, RFC 8252), and the grants: authorization code with PKCE
// through a loopback redirect, the device authorization grant (RFC 8628), refresh, and
// revocation (RFC 7009). Every token request names the resource (RFC 8707); the library
// checks the authorization response's `iss` (RFC 9207) because the server advertises it.
import * as client from 'openid-client';
import { CliError, exitCodes } from '../exit-codes.ts';
import type { OauthCredential } from './config-file.ts';
import { describeUnreachable, requestFailed } from './http-failure.ts';

/** A Gatehouse server as the CLI knows it: where its API is and who issues its tokens. */
export interface GatehouseServer {
  /** The public URL, without a trailing slash. */
  readonly url: string;
  /** The API's resource indicator: what every token of the CLI is bound to. */
  readonly resource: string;
  readonly issuer: string;
  readonly scopes: readonly string[];
}

const CLIENT_NAME = 'Gatehouse CLI';
/** Registered without a port: loopback redirects match on any port (RFC 8252 §7.3). */
export const LOOPBACK_REDIRECT = 'http://127.0.0.1/callback';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The server's URL as given, checked: https, or http to this machine only. Credentials sent
 * in the clear across a network are refused here rather than at the first token request.
 */
export function normaliseServerUrl(
  raw: string,
  source: string,
  /** A URL the person typed is a usage error; one a server sent is an error of that server. */
  exitCode: number = exitCodes.usage,
): string {
  const url = URL.parse(raw);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password)
    throw new CliError(`${source} is not an http(s) URL: ${raw}`, exitCode);
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname))
    throw new CliError(
      `${source} uses http to another machine (${url.host}); the CLI sends credentials only over https, or over http to 127.0.0.1 or localhost`,
      exitCode,
    );
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Every request of the CLI's OAuth gives up after this long (a refresh runs under the config lock). */
const OAUTH_TIMEOUT_SECONDS = 15;

/**
 * openid-client refuses http; it is allowed for this machine only, which discoverServer
 * checked of the issuer (normaliseServerUrl) before any request goes to it.
 */
function requestOptions(issuer: string): {
  execute?: ((config: client.Configuration) => void)[];
  timeout: number;
} {
  const insecure = new URL(issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {};
  return { ...insecure, timeout: OAUTH_TIMEOUT_SECONDS };
}

/**
 * Reads the API's protected-resource metadata (RFC 9728): it names the resource to ask tokens
 * for, the authorization server and the scopes. The document must describe this very API.
 */
export async function discoverServer(base: string): Promise<GatehouseServer> {
  const resource = `${base}/v1`;
  const { origin, pathname } = new URL(resource);
  const where = `${origin}/.well-known/oauth-protected-resource${pathname}`;
  let response: Response;
  try {
    response = await fetch(where, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(OAUTH_TIMEOUT_SECONDS * 1000),
    });
  } catch (error) {
    throw describeUnreachable(base, error);
  }
  const document = (await response.json().catch(() => undefined)) as
    | { resource?: unknown; authorization_servers?: unknown; scopes_supported?: unknown }
    | undefined;
  if (!response.ok || document === undefined)
    throw new CliError(`${base} does not look like a Gatehouse server: ${where} answered ${response.status}`);
  const issuer = Array.isArray(document.authorization_servers)
    ? document.authorization_servers[0]
    : undefined;
  if (document.resource !== resource || typeof issuer !== 'string')
    throw new CliError(
      `${where} describes ${JSON.stringify(document.resource)}, not ${resource}; is --url the server's public URL?`,
    );
  // The issuer gets the codes and refresh tokens: it is held to the same rule as --url.
  normaliseServerUrl(issuer, `the authorization server named by ${where}`, exitCodes.error);
  const scopes = Array.isArray(document.scopes_supported)
    ? document.scopes_supported.filter((scope): scope is string => typeof scope === 'string')
    : [];
  return { url: base, resource, issuer, scopes };
}

async function oauthStep<T>(step: string, server: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw describeOauthFailure(step, server, error);
  }
}

/** The CLI's registration at the authorization server: one public client, kept per issuer. */
export async function registerCli(server: GatehouseServer): Promise<string> {
  const configuration = await oauthStep('registering the CLI', server.url, () =>
    client.dynamicClientRegistration(
      new URL(server.issuer),
      {
        client_name: CLIENT_NAME,
        application_type: 'native',
        redirect_uris: [LOOPBACK_REDIRECT],
        grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      },
      client.None(),
      requestOptions(server.issuer),
    ),
  );
  return configuration.clientMetadata().client_id;
}

/**
 * Whether the server still knows the CLI's registration (a server whose database was reset,
 * or an admin who removed the client, does not). Asked the way the browser would: the
 * authorization endpoint answers an unknown client with `invalid_client` instead of sending
 * the browser on to sign in.
 */
export async function registrationStands(
  configuration: client.Configuration,
  server: GatehouseServer,
): Promise<boolean> {
  const probe = client.buildAuthorizationUrl(configuration, {
    redirect_uri: LOOPBACK_REDIRECT,
    scope: server.scopes.join(' '),
    resource: server.resource,
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256',
  });
  try {
    const answer = await fetch(probe, {
      redirect: 'manual',
      signal: AbortSignal.timeout(OAUTH_TIMEOUT_SECONDS * 1000),
    });
    if (answer.status !== 400) {
      await answer.body?.cancel();
      return true;
    }
    return !(await answer.text()).includes('invalid_client');
  } catch (error) {
    throw describeUnreachable(server.url, error);
  }
}

/** The openid-client configuration for the CLI's client at this server (discovery, RFC 8414). */
export async function connectClient(
  server: GatehouseServer,
  clientId: string,
): Promise<client.Configuration> {
  const configuration = await oauthStep('reading the authorization server metadata', server.url, () =>
    client.discovery(
      new URL(server.issuer),
      clientId,
      undefined,
      client.None(),
      requestOptions(server.issuer),
    ),
  );
  const metadata = configuration.serverMetadata();
  // The browser is sent there with the person's password to follow: https, or this machine.
  if (metadata.authorization_endpoint !== undefined)
    normaliseServerUrl(
      metadata.authorization_endpoint,
      `${server.issuer}'s authorization_endpoint`,
      exitCodes.error,
    );
  if (metadata.authorization_response_iss_parameter_supported !== true)
    throw new CliError(
      `${server.issuer} does not say it sends iss in authorization responses (RFC 9207); the CLI will not sign in without that check`,
    );
  return configuration;
}

function credentialOf(
  tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
  clientId: string,
  now: number,
): OauthCredential {
  const lifetime = tokens.expiresIn() ?? 3600;
  return {
    method: 'oauth',
    client_id: clientId,
    access_token: tokens.access_token,
    expires_at: new Date(now + lifetime * 1000).toISOString(),
    ...(tokens.refresh_token ? { refresh_token: tokens.refresh_token } : {}),
    ...(tokens.scope ? { scope: tokens.scope } : {}),
  };
}

export interface AuthorizationRequest {
  readonly url: URL;
  readonly state: string;
  readonly verifier: string;
}

/** The authorization URL for a loopback login, with PKCE S256 and the API as resource. */
export async function startAuthorization(
  configuration: client.Configuration,
  server: GatehouseServer,
  redirectUri: string,
): Promise<AuthorizationRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(configuration, {
    redirect_uri: redirectUri,
    scope: server.scopes.join(' '),
    resource: server.resource,
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  return { url, state, verifier };
}

/** Exchanges the code the loopback received; openid-client checks state and iss first. */
export async function finishAuthorization(
  configuration: client.Configuration,
  server: GatehouseServer,
  request: AuthorizationRequest,
  callback: URL,
): Promise<OauthCredential> {
  const tokens = await oauthStep('completing the sign-in', server.url, () =>
    client.authorizationCodeGrant(
      configuration,
      callback,
      { pkceCodeVerifier: request.verifier, expectedState: request.state },
      { resource: server.resource },
    ),
  );
  return credentialOf(tokens, configuration.clientMetadata().client_id, Date.now());
}

export type DeviceAuthorization = client.DeviceAuthorizationResponse;

export function startDeviceAuthorization(
  configuration: client.Configuration,
  server: GatehouseServer,
): Promise<DeviceAuthorization> {
  return oauthStep('starting the device sign-in', server.url, () =>
    client.initiateDeviceAuthorization(configuration, {
      scope: server.scopes.join(' '),
      resource: server.resource,
    }),
  );
}

/** Polls at the server's interval, slowing down when told to (`slow_down`), until done. */
export async function finishDeviceAuthorization(
  configuration: client.Configuration,
  server: GatehouseServer,
  authorization: DeviceAuthorization,
  signal: AbortSignal,
): Promise<OauthCredential> {
  const tokens = await oauthStep('waiting for the device sign-in', server.url, () =>
    client.pollDeviceAuthorizationGrant(
      configuration,
      authorization,
      { resource: server.resource },
      { signal },
    ),
  );
  return credentialOf(tokens, configuration.clientMetadata().client_id, Date.now());
}

/** Trades the refresh token for new tokens; the old refresh token is spent (rotation). */
export async function refreshCredential(
  configuration: client.Configuration,
  server: GatehouseServer,
  credential: OauthCredential,
): Promise<OauthCredential> {
  if (credential.refresh_token === undefined)
    throw new CliError(
      'the access token expired and the sign-in holds no refresh token; run `gatehouse auth login`',
      exitCodes.unauthenticated,
    );
  const refreshToken = credential.refresh_token;
  const tokens = await oauthStep('refreshing the access token', server.url, () =>
    client.refreshTokenGrant(configuration, refreshToken, { resource: server.resource }),
  );
  const renewed = credentialOf(tokens, credential.client_id, Date.now());
  // A server that does not rotate keeps the old refresh token valid.
  return renewed.refresh_token ? renewed : { ...renewed, refresh_token: refreshToken };
}

export async function revokeRefreshToken(
  configuration: client.Configuration,
  server: GatehouseServer,
  refreshToken: string,
): Promise<void> {
  await oauthStep('revoking the refresh token', server.url, () =>
    client.tokenRevocation(configuration, refreshToken, { token_type_hint: 'refresh_token' }),
  );
}

/**
 * One line for a failed OAuth step, naming the step and what the server said. A refused grant
 * (the sign-in ended: revoked, expired, replayed) means "not authenticated" (exit 3).
 */
export function describeOauthFailure(step: string, server: string, error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof client.ResponseBodyError || error instanceof client.AuthorizationResponseError) {
    const said = error.error_description ? `${error.error} (${error.error_description})` : error.error;
    const ended = error.error === 'invalid_grant' || error.error === 'access_denied';
    return new CliError(
      `${step} failed: the server answered ${said}${ended ? '; run `gatehouse auth login`' : ''}`,
      ended ? exitCodes.unauthenticated : exitCodes.error,
    );
  }
  if (requestFailed(error)) return describeUnreachable(server, error);
  // openid-client says what kind of check failed and keeps the precise one (a wrong iss or
  // state, an unexpected claim) as its cause.
  const cause = (error as { cause?: unknown }).cause;
  const precise =
    cause instanceof Error && cause.message !== (error as Error).message ? `: ${cause.message}` : '';
  return new CliError(`${step} failed: ${(error as Error).message}${precise}`);
}
