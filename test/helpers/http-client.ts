// Talks to a running server over real HTTP, as a browser and as a program do: sign-in through
// the /login form (GET sets the form CSRF cookie and hidden field, POST sets the session
// cookie, GET /v1/me gives the X-CSRF-Token for writes), and /v1 calls with that session or a
// bearer credential. Every request has a deadline.
import { TEST_PASSWORD } from './app.ts';

const REQUEST_TIMEOUT_MS = 5000;

/** A signed-in browser against one server: the Cookie header and the CSRF token /v1 wants. */
export interface HttpSession {
  readonly cookie: string;
  readonly csrfToken: string;
  readonly userId: string;
}

/** Who a /v1 call is from: a signed-in browser or an `Authorization: Bearer` credential. */
export type Caller = { readonly session: HttpSession } | { readonly bearer: string };

export interface HttpAnswer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

function absorbCookies(jar: Map<string, string>, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const pair = line.split(';')[0]!;
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const value = pair.slice(eq + 1).trim();
    if (value === '' || /max-age=0/i.test(line)) jar.delete(pair.slice(0, eq).trim());
    else jar.set(pair.slice(0, eq).trim(), value);
  }
}

const cookieHeader = (jar: Map<string, string>) => [...jar].map(([n, v]) => `${n}=${v}`).join('; ');

export async function signInOverHttp(
  baseUrl: string,
  email: string,
  password = TEST_PASSWORD,
): Promise<HttpSession> {
  const jar = new Map<string, string>();
  const signal = () => AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const page = await fetch(`${baseUrl}/login`, { redirect: 'manual', signal: signal() });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`GET /login answered ${page.status}`);
  absorbCookies(jar, page);
  const field = /name="csrf_token" value="([^"]*)"/.exec(html)?.[1];
  if (!field) throw new Error('GET /login rendered no hidden csrf_token');
  const submit = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    signal: signal(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
    body: new URLSearchParams({ email, password, csrf_token: field }).toString(),
  });
  const submitted = await submit.text();
  if (submit.status !== 303)
    throw new Error(`POST /login for ${email} answered ${submit.status}: ${submitted.slice(0, 300)}`);
  absorbCookies(jar, submit);
  const me = await fetch(`${baseUrl}/v1/me`, { headers: { cookie: cookieHeader(jar) }, signal: signal() });
  if (me.status !== 200) throw new Error(`GET /v1/me after sign-in answered ${me.status}`);
  const described = (await me.json()) as { csrf_token?: string; principal: { id: string } };
  if (!described.csrf_token) throw new Error('GET /v1/me gave no csrf_token: the session was not used');
  return { cookie: cookieHeader(jar), csrfToken: described.csrf_token, userId: described.principal.id };
}

/** One /v1 request (path relative to /v1) with a JSON body, answered with its parsed JSON body. */
export async function callV1<T = unknown>(
  baseUrl: string,
  caller: Caller,
  method: string,
  path: string,
  body?: unknown,
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = {};
  if ('bearer' in caller) headers.authorization = `Bearer ${caller.bearer}`;
  else {
    headers.cookie = caller.session.cookie;
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) headers['x-csrf-token'] = caller.session.csrfToken;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text === '' ? undefined : JSON.parse(text)) as T,
  };
}

/** The value of one unlabelled Prometheus counter or gauge on the server's /metrics. */
export async function scrapeMetric(baseUrl: string, name: string): Promise<number> {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  const match = new RegExp(`^${name}(?:\\{\\})? (\\S+)$`, 'm').exec(text);
  if (!match) throw new Error(`/metrics has no ${name}`);
  return Number(match[1]);
}
