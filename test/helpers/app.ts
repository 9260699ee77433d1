// A Gatehouse app on a fresh test database, driven through app.inject(), with a manual
// clock. Nothing of ours is replaced: the services are the ones main.ts wires.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createManualClock, type ManualClock } from '../../src/core/clock.ts';
import { generateMasterKey, parseMasterKey } from '../../src/core/secrets.ts';
import { type DbHandle, openDb } from '../../src/db/index.ts';
import type { RouteEntry } from '../../src/http/index.ts';
import { createServices, type Services } from '../../src/services.ts';
import { type BackendKind, createTestDatabase, type TestDatabase } from './backends.ts';
import { silentLogger } from './logger.ts';

export const TEST_PASSWORD = 'correct horse battery staple';

export interface TestApp {
  readonly kind: BackendKind;
  readonly app: FastifyInstance;
  readonly routes: readonly RouteEntry[];
  readonly services: Services;
  readonly database: DbHandle;
  readonly testDatabase: TestDatabase;
  readonly clock: ManualClock;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Where the app, its services and its database log; quiet by default. */
  readonly logger?: PinoLogger;
  /** Answers DNS TXT lookups for domain verification (DNS is out of reach in tests). */
  readonly resolveTxt?: (name: string) => Promise<string[][]>;
  /**
   * Another node on this test database (with its master key, which `env` must then carry as
   * GATEHOUSE_SECRET_KEY) instead of a fresh database; closing this app leaves it in place.
   */
  readonly sharedDatabase?: TestDatabase;
}

export async function createTestApp(
  kind: BackendKind,
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const logger = options.logger ?? silentLogger;
  const testDatabase = options.sharedDatabase ?? (await createTestDatabase(kind));
  const masterKey = env.GATEHOUSE_SECRET_KEY ?? generateMasterKey();
  const config = loadConfig({
    GATEHOUSE_DATABASE_URL: testDatabase.url,
    GATEHOUSE_SECRET_KEY: masterKey,
    GATEHOUSE_PUBLIC_URL: 'http://localhost:8080',
    ...env,
  });
  const database = openDb(testDatabase.config, logger);
  await database.migrateToLatest();
  const clock = createManualClock(Date.UTC(2026, 10, 1, 9, 0, 0));
  const services = createServices({
    config,
    database,
    clock,
    log: logger,
    masterKey: parseMasterKey(masterKey),
    resolveTxt: options.resolveTxt,
  });
  const { app, routes } = await buildApp(services, logger);
  await app.ready();
  return {
    kind,
    app,
    routes,
    services,
    database,
    testDatabase,
    clock,
    close: async () => {
      await app.close();
      await database.close();
      if (!options.sharedDatabase) await testDatabase.drop();
    },
  };
}

/** A signed-in browser: its cookies and the CSRF token /v1 wants on writes. */
export interface Browser {
  readonly cookies: Record<string, string>;
  readonly csrfToken: string;
  readonly userId: string;
}

function mergeSetCookies(jar: Record<string, string>, response: LightMyRequestResponse): void {
  for (const c of response.cookies as { name: string; value: string; expires?: Date }[]) {
    if (c.value === '' || (c.expires && c.expires.getTime() < Date.now() - 1000 * 86400 * 365))
      delete jar[c.name];
    else jar[c.name] = c.value;
  }
}

/** An application/x-www-form-urlencoded body, as a browser posts a form. */
export function form(fields: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) params.set(k, v);
  return params.toString();
}

export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no hidden field ${name} in page`);
  return match[1];
}

/** Signs in through the real /login form, as a browser would. */
export async function signIn(
  t: TestApp,
  email: string,
  password = TEST_PASSWORD,
  ip = '127.0.0.1',
): Promise<Browser> {
  const jar: Record<string, string> = {};
  const page = await t.app.inject({ method: 'GET', url: '/login', remoteAddress: ip });
  mergeSetCookies(jar, page);
  const response = await t.app.inject({
    method: 'POST',
    url: '/login',
    cookies: jar,
    remoteAddress: ip,
    payload: form({ email, password, csrf_token: hiddenField(page.body, 'csrf_token') }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  if (response.statusCode !== 303)
    throw new Error(`sign-in failed: ${response.statusCode} ${response.body.slice(0, 200)}`);
  mergeSetCookies(jar, response);
  const me = await t.app.inject({ method: 'GET', url: '/v1/me', cookies: jar });
  const body = me.json() as { csrf_token: string; principal: { id: string } };
  return { cookies: jar, csrfToken: body.csrf_token, userId: body.principal.id };
}

/** Sends a /v1 request as a signed-in browser, with the CSRF header on unsafe methods. */
export function asBrowser(
  t: TestApp,
  browser: Browser,
  options: InjectOptions,
): Promise<LightMyRequestResponse> {
  return t.app.inject({
    ...options,
    cookies: browser.cookies,
    headers: { ...(options.headers ?? {}), 'x-csrf-token': browser.csrfToken },
  });
}

/** Creates the first admin and org through the operator path, and signs the admin in. */
export async function setUpOrgWithAdmin(
  t: TestApp,
  slug = 'acme',
  email = `admin@${slug}.example`,
): Promise<{ orgId: string; admin: Browser }> {
  const { orgId } = await t.services.bootstrap.createAdmin(t.services.systemContext('test'), {
    email,
    name: 'Ada Admin',
    password: TEST_PASSWORD,
    orgSlug: slug,
    orgName: `${slug} Inc`,
  });
  return { orgId, admin: await signIn(t, email) };
}

/** Adds a member with a password through the API and signs them in. */
export async function addMember(
  t: TestApp,
  admin: Browser,
  orgSlug: string,
  role: 'admin' | 'user' | 'viewer',
  email: string,
): Promise<Browser> {
  const res = await asBrowser(t, admin, {
    method: 'POST',
    url: `/v1/orgs/${orgSlug}/members`,
    payload: { email, name: email.split('@')[0], role, password: TEST_PASSWORD },
  });
  if (res.statusCode !== 201) throw new Error(`add member failed: ${res.statusCode} ${res.body}`);
  return signIn(t, email);
}
