// What the token suite shares between Gatehouse's seeding (bench/seed-oauth.ts), the B-OP
// baseline (baselines/oidc-provider.ts) and the suite itself: the clients, the resources,
// how a refresh token is minted through oidc-provider's own models, the user's way to an
// access token over HTTP, and the wrk script of the refresh grant.
import { createHash, randomBytes } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { SignedInBrowser } from './browser.ts';

/** GATEHOUSE_PUBLIC_URL of every bench node (lib/gatehouse.ts), and B-OP's resources' base. */
export const BENCH_PUBLIC_URL = 'http://127.0.0.1:8080';
export const MCP_RESOURCE = `${BENCH_PUBLIC_URL}/mcp`;
export const API_RESOURCE = `${BENCH_PUBLIC_URL}/v1`;
/** B-OP only: the same client-credentials grant with an opaque access token. */
export const OPAQUE_RESOURCE = `${BENCH_PUBLIC_URL}/mcp-opaque`;
export const TOKEN_PATH = '/oauth/token';

/** A confidential client allowed the client-credentials grant (client_secret_basic). */
export const CC_CLIENT_ID = 'bench-client-credentials';
/** A confidential client that holds refresh tokens (client_secret_basic), the pool's grants' client. */
export const REFRESH_CLIENT_ID = 'bench-refresh';
export const REFRESH_REDIRECT_URI = 'http://127.0.0.1:33418/callback';
/** The scope of every grant in the refresh pool, for the MCP resource. */
export const REFRESH_SCOPE = 'projects:read members:read';

export const DAY_SECONDS = 24 * 60 * 60;
/** Gatehouse's lifetimes (src/oauth/provider.ts, service.ts), which B-OP is given too. */
export const TTL = {
  AccessToken: 3600,
  ClientCredentials: 3600,
  Grant: 30 * DAY_SECONDS,
  RefreshToken: 14 * DAY_SECONDS,
  Session: DAY_SECONDS,
  Interaction: 10 * 60,
} as const;

/** The client metadata both servers store (Gatehouse through its adapter, B-OP as static clients). */
export function benchClients(secrets: { cc: string; refresh: string }) {
  return [
    {
      client_id: CC_CLIENT_ID,
      client_secret: secrets.cc,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: REFRESH_CLIENT_ID,
      client_secret: secrets.refresh,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REFRESH_REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ] as const;
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export const FORM = 'application/x-www-form-urlencoded';

export function clientCredentialsBody(resource: string): string {
  return new URLSearchParams({ grant_type: 'client_credentials', resource }).toString();
}

/** Everything of a refresh request's body but the token, which goes last. */
export function refreshBodyPrefix(resource: string): string {
  return `${new URLSearchParams({ grant_type: 'refresh_token', resource }).toString()}&refresh_token=`;
}

/**
 * Mints `count` refresh tokens as the library's authorization-code grant would after a user
 * signed in and consented: per token its own sign-in session (the library's Session, holding
 * the grant for the client), its own Grant (the scope for the one resource, as Gatehouse's
 * consent page makes it) and a RefreshToken bound to both. Gatehouse's refresh tokens do not
 * expire with the library's session (src/oauth/provider.ts, expiresWithSession; B-OP is given
 * the same setting), so a refresh does not look the session up, as for tokens issued through
 * /oauth/authorize. Everything is saved through the provider's adapter: Gatehouse's database,
 * or B-OP's memory.
 */
export async function mintRefreshTokens(
  provider: Provider,
  spec: {
    readonly clientId: string;
    readonly accountId: string;
    readonly resource: string;
    readonly scope: string;
    readonly count: number;
    /** Saves in flight at once (PostgreSQL gains from a few; SQLite and memory do not care). */
    readonly parallel?: number;
  },
): Promise<string[]> {
  const client = await provider.Client.find(spec.clientId);
  if (!client) throw new Error(`client ${spec.clientId} is not stored`);
  const mintOne = async (): Promise<string> => {
    const session = new provider.Session();
    session.loginAccount({ accountId: spec.accountId });
    const grant = new provider.Grant({ accountId: spec.accountId, clientId: spec.clientId });
    grant.addOIDCScope(spec.scope);
    grant.addResourceScope(spec.resource, spec.scope);
    const grantId = await grant.save();
    session.ensureClientContainer(spec.clientId);
    session.grantIdFor(spec.clientId, grantId);
    await session.save(TTL.Session);
    const token = new provider.RefreshToken({
      accountId: spec.accountId,
      authTime: session.authTime(),
      client,
      grantId,
      gty: 'authorization_code',
      resource: spec.resource,
      rotations: 0,
      scope: spec.scope,
      sessionUid: session.uid,
    });
    return token.save();
  };
  const tokens: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < spec.count) {
      next++;
      tokens.push(await mintOne());
    }
  };
  await Promise.all(Array.from({ length: spec.parallel ?? 1 }, worker));
  return tokens;
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

type Jar = Map<string, string>;

function jarFrom(cookieHeader: string): Jar {
  const jar: Jar = new Map();
  for (const pair of cookieHeader.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0) jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
  return jar;
}

/** A browser's jar for one host: the library's cookies are per path, but one name holds one value at a time. */
function absorb(jar: Jar, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    if (eq <= 0) continue;
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
}

const cookieHeader = (jar: Jar) => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');

const hidden = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];

export interface UserTokens {
  readonly clientId: string;
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
}

/**
 * A user's access token the way an MCP client or the CLI gets one, over real HTTP: registers
 * a public client (POST /oauth/register), sends the signed-in browser (its cookies) to
 * /oauth/authorize with PKCE S256, follows it through the interaction (the continue page
 * after sign-in, the consent page, approved with its form), and exchanges the code at
 * /oauth/token for a token bound to `resource`.
 */
export async function userTokenOverHttp(
  baseUrl: string,
  user: SignedInBrowser,
  request: { readonly resource: string; readonly scope: string; readonly clientName: string },
): Promise<UserTokens> {
  const registered = await fetch(`${baseUrl}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: request.clientName,
      redirect_uris: [REFRESH_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }),
  });
  const registration = await registered.text();
  if (registered.status !== 201)
    throw new Error(`POST /oauth/register answered ${registered.status}: ${registration.slice(0, 300)}`);
  const clientId = (JSON.parse(registration) as { client_id: string }).client_id;

  const jar = jarFrom(user.cookieHeader);
  const { verifier, challenge } = pkce();
  const params = new URLSearchParams({
    client_id: clientId,
    redirect_uri: REFRESH_REDIRECT_URI,
    response_type: 'code',
    scope: request.scope,
    resource: request.resource,
    state: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const origin = new URL(baseUrl).origin;
  let location = `${baseUrl}/oauth/authorize?${params}`;
  let code: string | undefined;
  const path: string[] = [];
  for (let hop = 0; hop < 12 && code === undefined; hop++) {
    const url = new URL(location, baseUrl);
    if (url.origin !== origin) {
      if (!url.href.startsWith(REFRESH_REDIRECT_URI))
        throw new Error(`the authorization went to ${url.href}, not the client`);
      code = url.searchParams.get('code') ?? undefined;
      if (!code) throw new Error(`the client got no code: ${url.search}`);
      break;
    }
    path.push(url.pathname);
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: cookieHeader(jar) } });
    absorb(jar, response);
    const body = await response.text();
    if (response.status === 302 || response.status === 303) {
      location = response.headers.get('location')!;
      continue;
    }
    if (response.status !== 200)
      throw new Error(`GET ${url.pathname} answered ${response.status}: ${body.slice(0, 300)}`);
    const refresh = /http-equiv="refresh" content="0;url=([^"]+)"/.exec(body);
    if (refresh) {
      location = refresh[1]!.replaceAll('&amp;', '&');
      continue;
    }
    if (!/Authorize /.test(body))
      throw new Error(`GET ${url.pathname} is neither a redirect nor the consent page`);
    const csrf = hidden(body, 'csrf_token');
    if (csrf === undefined) throw new Error('the consent page has no csrf_token');
    const decided = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookieHeader(jar), 'content-type': FORM },
      body: new URLSearchParams({ csrf_token: csrf, decision: 'approve' }).toString(),
    });
    absorb(jar, decided);
    const decidedBody = await decided.text();
    if (decided.status !== 303)
      throw new Error(`approving the consent answered ${decided.status}: ${decidedBody.slice(0, 300)}`);
    location = decided.headers.get('location')!;
  }
  if (code === undefined) throw new Error(`the authorization did not reach the client (${path.join(' → ')})`);

  const exchanged = await fetch(`${baseUrl}${TOKEN_PATH}`, {
    method: 'POST',
    headers: { 'content-type': FORM },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: clientId,
      code,
      redirect_uri: REFRESH_REDIRECT_URI,
      code_verifier: verifier,
      resource: request.resource,
    }).toString(),
  });
  const tokens = await exchanged.text();
  if (exchanged.status !== 200)
    throw new Error(`exchanging the code answered ${exchanged.status}: ${tokens.slice(0, 300)}`);
  const issued = JSON.parse(tokens) as { access_token: string; refresh_token?: string };
  return { clientId, accessToken: issued.access_token, refreshToken: issued.refresh_token };
}

const lua = (value: string) => JSON.stringify(value);

/**
 * A wrk script for the refresh-token grant in which no token is ever sent twice. The tokens
 * are chains: each refresh answers with the chain's next token (rotation), which goes to the
 * back of the queue; each request takes the front one, so it is spent as it is sent and never
 * sent again. The queue starts from `poolFile` (one token a line), which `init` empties as it
 * reads it and `done` writes back with the tokens received and not yet sent, so the next wrk
 * run (warm-up → measured run → next round) continues where this one stopped. A chain whose
 * request was in flight when wrk stopped (up to one per connection) ends there: its token
 * may have been spent, and its answer is lost. A request that finds the queue empty sends a
 * token that does not exist: the answer is a 400, and the run is invalid. Assumes -t1 (one
 * thread, one queue).
 */
export function refreshChainScript(label: string, poolFile: string, bodyPrefix: string): string {
  return `-- ${label} (bench/suites/token.ts): refresh tokens in chains, none sent twice
wrk.method = "POST"
local pool_file = ${lua(poolFile)}
local prefix = ${lua(bodyPrefix)}
bench_queue = {}
bench_head = 1
bench_tail = 1
bench_sent = 0
bench_renewed = 0

function init(args)
  local f = assert(io.open(pool_file, "r"))
  for line in f:lines() do
    if #line > 0 then
      bench_queue[bench_tail] = line
      bench_tail = bench_tail + 1
    end
  end
  f:close()
  -- From here on these tokens are this run's: should wrk die, none is left to send twice.
  assert(io.open(pool_file, "w")):close()
end

function request()
  local token = bench_queue[bench_head]
  if token == nil then
    token = "bench-refresh-pool-exhausted"
  else
    bench_queue[bench_head] = nil
    bench_head = bench_head + 1
  end
  bench_sent = bench_sent + 1
  return wrk.format(nil, nil, nil, prefix .. token)
end

function response(status, headers, body)
  local next_token = string.match(body, '"refresh_token":"([^"]+)"')
  if next_token ~= nil then
    bench_queue[bench_tail] = next_token
    bench_tail = bench_tail + 1
    bench_renewed = bench_renewed + 1
  end
end

local bench_threads = {}
function setup(thread) table.insert(bench_threads, thread) end

function done(summary, latency, requests)
  local f = assert(io.open(pool_file, "w"))
  local left = 0
  for _, thread in ipairs(bench_threads) do
    local queue = thread:get("bench_queue")
    for i = thread:get("bench_head"), thread:get("bench_tail") - 1 do
      f:write(queue[i], "\\n")
      left = left + 1
    end
    io.write(string.format("BENCH_REFRESH sent %d renewed %d left %d\\n",
      thread:get("bench_sent"), thread:get("bench_renewed"), left))
  end
  f:close()
end
`;
}
