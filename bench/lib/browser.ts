// Signs in over HTTP exactly as a browser does: GET /login sets the gatehouse_csrf form
// cookie and renders the hidden csrf_token; POST /login with that cookie and field sets
// the session cookie. The resulting Cookie header is what wrk sends.

export interface SignedInBrowser {
  /** The Cookie header a browser would send: every cookie Gatehouse set. */
  readonly cookieHeader: string;
  /** X-CSRF-Token for unsafe /v1 requests with this session (from GET /v1/me). */
  readonly csrfToken: string;
  readonly userId: string;
}

function absorbCookies(jar: Map<string, string>, response: Response): void {
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    if (eq <= 0) continue;
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    const expired = /max-age=0|expires=thu, 01 jan 1970/i.test(line);
    if (value === '' || expired) jar.delete(name);
    else jar.set(name, value);
  }
}

function cookieHeader(jar: Map<string, string>): string {
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
}

export async function signInOverHttp(
  baseUrl: string,
  email: string,
  password: string,
): Promise<SignedInBrowser> {
  const jar = new Map<string, string>();
  const page = await fetch(`${baseUrl}/login`, { redirect: 'manual' });
  const html = await page.text();
  if (page.status !== 200) throw new Error(`GET /login answered ${page.status}`);
  absorbCookies(jar, page);
  const field = /name="csrf_token" value="([^"]*)"/.exec(html)?.[1];
  if (!field || jar.size === 0) throw new Error('GET /login gave no form CSRF cookie or hidden csrf_token');

  const submit = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(jar) },
    body: new URLSearchParams({ email, password, csrf_token: field }).toString(),
  });
  const body = await submit.text();
  if (submit.status !== 303) throw new Error(`POST /login answered ${submit.status}: ${body.slice(0, 300)}`);
  absorbCookies(jar, submit);

  const me = await fetch(`${baseUrl}/v1/me`, { headers: { cookie: cookieHeader(jar) } });
  if (me.status !== 200)
    throw new Error(`GET /v1/me after sign-in answered ${me.status}: ${await me.text()}`);
  const described = (await me.json()) as { csrf_token?: string; principal: { id: string } };
  if (!described.csrf_token)
    throw new Error('GET /v1/me gave no csrf_token: the session cookie was not used');
  return { cookieHeader: cookieHeader(jar), csrfToken: described.csrf_token, userId: described.principal.id };
}
