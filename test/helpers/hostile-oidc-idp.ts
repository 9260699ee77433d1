// A deliberately hostile OpenID Connect provider for attack tests against our relying party:
// the protocol around the ID token is honest (discovery, client auth, PKCE, single-use codes),
// but a test decides exactly what ID token the token endpoint returns and how it is signed.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CompactSign,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';

export interface IdTokenForge {
  header: { alg: string; kid?: string; typ?: string }; // alg 'none' means an unsigned token: base64url(header).base64url(payload). (empty signature)
  claims: Record<string, unknown>; // iss, sub, aud, nonce, iat, exp, email, email_verified, name, groups...
  /**
   * 'idp' = the key published in JWKS; 'attacker' = a key NOT in the JWKS. For an HS* alg the
   * HMAC secret is, for 'idp', the client secret (what an OP uses for symmetric ID tokens) and,
   * for 'attacker', the IdP's public key as SPKI PEM (the RS256 → HS256 algorithm confusion).
   */
  signWith: 'idp' | 'attacker';
}

export interface HostileOidcIdp {
  readonly issuer: string;
  readonly clientId: string; // 'hostile-client'
  readonly clientSecret: string;
  /** Called when the token endpoint builds its ID token; gets honest defaults (correct iss, aud=clientId, sub, the nonce from the authorization request, iat=now, exp=now+300, email, email_verified: true, groups) and returns what to send. Default: identity. */
  forge: (honest: IdTokenForge) => IdTokenForge;
  user: { sub: string; email: string; email_verified?: boolean; name?: string; groups?: string[] };
  /** Set to true to publish a JWKS that does not contain the current signing kid (a rotation the RP cannot follow). */
  hideSigningKeyFromJwks: boolean;
  readonly jwksFetches: number; // how many times /jwks was fetched
  readonly tokenRequests: number;
  /** GETs the authorization URL: the authorize endpoint immediately redirects to redirect_uri with ?code=…&state=<same state> (and remembers nonce + code_challenge for that code). Returns the redirect URL without following it. */
  authorize(authorizationUrl: string): Promise<URL>;
  close(): Promise<void>;
}

interface IssuedCode {
  redirectUri: string;
  nonce: string | undefined;
  codeChallenge: string;
  used: boolean;
}

const MAX_BODY_BYTES = 64 * 1024;

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

async function rsaKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  // A WebCrypto key is bound to one algorithm; re-importing the JWK per alg lets a forged header
  // ask for RS384 or PS256 from the same RSA key (the kid then still names a published key).
  const byAlg = new Map<string, Promise<CryptoKey | Uint8Array>>();
  const signingKey = (alg: string) => {
    let key = byAlg.get(alg);
    if (!key) {
      key = importJWK(privateJwk, alg);
      byAlg.set(alg, key);
    }
    return key;
  };
  return { publicKey, publicJwk, signingKey };
}

function base64url(input: string | Uint8Array): string {
  return Buffer.from(input).toString('base64url');
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new OAuthError(413, 'invalid_request', 'request body too large');
    chunks.push(buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/** RFC 6749 §2.3.1: the parts of a Basic credential are form-urlencoded before base64. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, '%20'));
}

function clientCredentials(req: IncomingMessage, form: URLSearchParams): { id: string; secret: string } {
  const authorization = req.headers.authorization;
  const inBody = form.has('client_secret');
  if (authorization?.toLowerCase().startsWith('basic ')) {
    if (inBody)
      throw new OAuthError(400, 'invalid_request', 'client authentication by more than one mechanism');
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError(401, 'invalid_client', 'malformed Basic credentials');
    try {
      return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
    } catch {
      throw new OAuthError(401, 'invalid_client', 'malformed Basic credentials');
    }
  }
  if (inBody) return { id: form.get('client_id') ?? '', secret: form.get('client_secret') ?? '' };
  throw new OAuthError(401, 'invalid_client', 'no client authentication');
}

export async function startHostileOidcIdp(
  options: { user?: HostileOidcIdp['user'] } = {},
): Promise<HostileOidcIdp> {
  const clientId = 'hostile-client';
  const clientSecret = randomBytes(32).toString('base64url');
  const signing = await rsaKey(`hostile-idp-${randomUUID()}`);
  const attacker = await rsaKey(`hostile-attacker-${randomUUID()}`);
  // Published instead of the signing key when hideSigningKeyFromJwks is set: a well-formed
  // JWKS that simply lacks the kid the tokens carry.
  const decoy = await rsaKey(`hostile-decoy-${randomUUID()}`);
  const publicKeyPem = await exportSPKI(signing.publicKey);
  const codes = new Map<string, IssuedCode>();
  const accessTokens = new Set<string>();
  let jwksFetches = 0;
  let tokenRequests = 0;

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const issuer = `http://127.0.0.1:${port}`;

  const idp: HostileOidcIdp = {
    issuer,
    clientId,
    clientSecret,
    forge: (honest) => honest,
    user: options.user ?? {
      sub: 'hostile-user-1',
      email: 'user@hostile.example',
      name: 'Hostile User',
      groups: ['users'],
    },
    hideSigningKeyFromJwks: false,
    get jwksFetches() {
      return jwksFetches;
    },
    get tokenRequests() {
      return tokenRequests;
    },
    async authorize(authorizationUrl: string): Promise<URL> {
      const url = new URL(authorizationUrl);
      if (url.origin !== issuer) throw new Error(`${url.origin} is not the hostile IdP (${issuer})`);
      const response = await fetch(url, { redirect: 'manual' });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel();
        return new URL(location, url);
      }
      throw new Error(
        `hostile IdP refused the authorization request: ${response.status} ${await response.text()}`,
      );
    },
    close(): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };

  const userClaims = (): Record<string, unknown> => {
    const { user } = idp;
    return {
      sub: user.sub,
      email: user.email,
      email_verified: user.email_verified ?? true,
      ...(user.name === undefined ? {} : { name: user.name }),
      ...(user.groups === undefined ? {} : { groups: [...user.groups] }),
    };
  };

  const sign = async ({ header, claims, signWith }: IdTokenForge): Promise<string> => {
    const payload = new TextEncoder().encode(JSON.stringify(claims));
    if (header.alg === 'none') return `${base64url(JSON.stringify(header))}.${base64url(payload)}.`;
    if (header.alg.startsWith('HS')) {
      const secret = signWith === 'idp' ? clientSecret : publicKeyPem;
      return new CompactSign(payload).setProtectedHeader(header).sign(new TextEncoder().encode(secret));
    }
    const key = await (signWith === 'idp' ? signing : attacker).signingKey(header.alg);
    return new CompactSign(payload).setProtectedHeader(header).sign(key);
  };

  const routes: Record<string, (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>> = {
    '/.well-known/openid-configuration': async (_req, res) => {
      sendJson(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        userinfo_endpoint: `${issuer}/userinfo`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        scopes_supported: ['openid', 'email', 'profile', 'groups'],
        claims_supported: [
          'sub',
          'iss',
          'aud',
          'exp',
          'iat',
          'nonce',
          'email',
          'email_verified',
          'name',
          'groups',
        ],
      });
    },

    '/jwks': async (_req, res) => {
      jwksFetches++;
      sendJson(res, 200, { keys: [idp.hideSigningKeyFromJwks ? decoy.publicJwk : signing.publicJwk] });
    },

    '/authorize': async (_req, res, url) => {
      const params = url.searchParams;
      const redirectUri = params.get('redirect_uri');
      const codeChallenge = params.get('code_challenge');
      if (params.get('client_id') !== clientId)
        throw new OAuthError(400, 'invalid_client', 'unknown client_id');
      if (!redirectUri || !URL.canParse(redirectUri))
        throw new OAuthError(400, 'invalid_request', 'redirect_uri missing or not a URL');
      if (params.get('response_type') !== 'code')
        throw new OAuthError(400, 'unsupported_response_type', 'only response_type=code');
      if (!codeChallenge || params.get('code_challenge_method') !== 'S256')
        throw new OAuthError(400, 'invalid_request', 'PKCE with code_challenge_method=S256 is required');
      const code = randomBytes(32).toString('base64url');
      codes.set(code, { redirectUri, nonce: params.get('nonce') ?? undefined, codeChallenge, used: false });
      const location = new URL(redirectUri);
      location.searchParams.set('code', code);
      const state = params.get('state');
      if (state !== null) location.searchParams.set('state', state);
      res.writeHead(302, { location: location.href, 'cache-control': 'no-store' });
      res.end();
    },

    '/token': async (req, res) => {
      tokenRequests++;
      if (req.method !== 'POST') throw new OAuthError(405, 'invalid_request', 'POST only');
      const form = await readForm(req);
      const client = clientCredentials(req, form);
      if (client.id !== clientId || client.secret !== clientSecret)
        throw new OAuthError(401, 'invalid_client', 'client authentication failed');
      if (form.get('grant_type') !== 'authorization_code')
        throw new OAuthError(400, 'unsupported_grant_type', 'only authorization_code');
      const issued = codes.get(form.get('code') ?? '');
      if (!issued || issued.used) throw new OAuthError(400, 'invalid_grant', 'unknown or already used code');
      // Single use whatever happens next, as a real OP does on a failed redemption.
      issued.used = true;
      if (form.get('redirect_uri') !== issued.redirectUri)
        throw new OAuthError(400, 'invalid_grant', 'redirect_uri does not match the authorization request');
      const verifier = form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== issued.codeChallenge)
        throw new OAuthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge');

      const now = Math.floor(Date.now() / 1000);
      const honest: IdTokenForge = {
        header: { alg: 'RS256', kid: signing.publicJwk.kid, typ: 'JWT' },
        claims: {
          iss: issuer,
          aud: clientId,
          ...(issued.nonce === undefined ? {} : { nonce: issued.nonce }),
          iat: now,
          exp: now + 300,
          ...userClaims(),
        },
        signWith: 'idp',
      };
      // The token is signed only after the test's forge has had its say.
      const idToken = await sign(idp.forge(honest));
      const accessToken = randomBytes(32).toString('base64url');
      accessTokens.add(accessToken);
      sendJson(res, 200, {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: 300,
        id_token: idToken,
      });
    },

    '/userinfo': async (req, res) => {
      const authorization = req.headers.authorization ?? '';
      const token = authorization.toLowerCase().startsWith('bearer ') ? authorization.slice(7).trim() : '';
      if (!accessTokens.has(token)) {
        sendJson(
          res,
          401,
          { error: 'invalid_token', error_description: 'unknown access token' },
          { 'www-authenticate': 'Bearer error="invalid_token"' },
        );
        return;
      }
      sendJson(res, 200, userClaims());
    },
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    const route = routes[url.pathname];
    const work = route
      ? route(req, res, url)
      : Promise.reject(new OAuthError(404, 'not_found', `no route ${url.pathname}`));
    work.catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof OAuthError) {
        const headers: Record<string, string> =
          error.status === 401 ? { 'www-authenticate': 'Basic realm="hostile-idp"' } : {};
        sendJson(res, error.status, { error: error.error, error_description: error.message }, headers);
        return;
      }
      sendJson(res, 500, {
        error: 'server_error',
        error_description: error instanceof Error ? error.message : String(error),
      });
    });
  });

  return idp;
}
