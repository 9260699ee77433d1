// The browser tier (ARCHITECTURE.md, Tests): playwright-core driving Debian's Chromium at
// /usr/bin/chromium (never a downloaded browser), and page objects that find things the way
// a person does, by role and label. Every wait is bounded.
//
// Chromium missing: under CI the tier is mandatory and browserTier() says so by failing;
// elsewhere the suites skip with a message that names the path.
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The longest any single wait (navigation, element, launch) may take. */
export const WAIT_MS = 10_000;

const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

/**
 * How a browser suite should run: `skip` is false or the reason to skip. Under CI a missing
 * Chromium is never a skip: `launch` then throws, so the suite fails.
 */
export function browserTier(): { skip: false | string } {
  if (existsSync(CHROMIUM_PATH) || process.env.CI === 'true') return { skip: false };
  return {
    skip: `Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium package to run the browser tier (mandatory under CI)`,
  };
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `the browser tier needs Debian's Chromium at ${CHROMIUM_PATH} (CI=${process.env.CI ?? ''}): it is missing`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: LAUNCH_ARGS, timeout: 15_000 });
}

/** A fresh browser profile (its own cookies), with every wait in it bounded. */
export async function newBoundedContext(browser: Browser, baseURL: string): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  return context;
}

/** `/login`, `/admin/`… of the page's current URL, for assertions that do not care about the host. */
export function pathOf(page: Page): string {
  return new URL(page.url()).pathname;
}

export interface FetchAnswer {
  status: number;
  body: { error?: { code?: string; message?: string } } | null;
}

/** The answer to a same-origin fetch made by the page itself, with its cookies. */
export async function fetchFromPage(page: Page, path: string): Promise<FetchAnswer> {
  return page.evaluate(async (url): Promise<FetchAnswer> => {
    const response = await fetch(url, {
      headers: { accept: 'application/json' },
      credentials: 'same-origin',
    });
    const body = (await response.json().catch(() => null)) as FetchAnswer['body'];
    return { status: response.status, body };
  }, path);
}

// ---- server-rendered pages -------------------------------------------------------------------

export interface FirstAdmin {
  name: string;
  email: string;
  password: string;
  orgName: string;
  orgSlug: string;
}

export class SetupPage {
  constructor(readonly page: Page) {}

  async open(setupLink: string): Promise<this> {
    await this.page.goto(setupLink);
    await this.page.getByRole('heading', { name: 'Set up Gatehouse' }).waitFor();
    return this;
  }

  async createFirstAdmin(admin: FirstAdmin): Promise<void> {
    await this.page.getByLabel('Your name').fill(admin.name);
    await this.page.getByLabel('Email').fill(admin.email);
    await this.page.getByLabel('Password').fill(admin.password);
    await this.page.getByLabel('Organization name').fill(admin.orgName);
    await this.page.getByLabel('Organization slug').fill(admin.orgSlug);
    await this.page.getByRole('button', { name: 'Create administrator' }).click();
  }
}

export class LoginPage {
  constructor(readonly page: Page) {}

  async open(): Promise<this> {
    await this.page.goto('/login');
    await this.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    return this;
  }

  async signIn(email: string, password: string): Promise<void> {
    await this.page.getByLabel('Email').fill(email);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }
}

export class LogoutPage {
  constructor(readonly page: Page) {}

  /** Opens /logout and confirms; the server sends the browser to /login. */
  async signOut(): Promise<void> {
    await this.page.goto('/logout');
    await this.page.getByRole('button', { name: 'Sign out' }).click();
    await this.page.waitForURL((url) => url.pathname === '/login');
  }
}

// ---- the admin console -----------------------------------------------------------------------

export class AdminConsole {
  constructor(readonly page: Page) {}

  /** Waits until the console has asked /v1/me who is signed in and shows it. */
  async waitUntilLoaded(email: string): Promise<this> {
    await this.page.waitForURL((url) => url.pathname === '/admin/');
    await this.page.getByText(`<${email}>`).waitFor();
    return this;
  }

  /** The alert the console raises when /v1 refuses something. */
  get alert(): Locator {
    return this.page.getByRole('alert');
  }

  /** The polite status line that says what just went well. */
  get done(): Locator {
    return this.page.getByRole('status', { name: 'Result' });
  }

  get membersTable(): Locator {
    return this.page.getByRole('table', { name: 'Members' });
  }

  memberRow(email: string): Locator {
    return this.membersTable
      .getByRole('row')
      .filter({ has: this.page.getByRole('cell', { name: email, exact: true }) });
  }

  /** Waits for `email`'s Status cell to read `status`. */
  async waitForMemberStatus(email: string, status: string): Promise<void> {
    await this.memberRow(email).getByRole('cell', { name: status, exact: true }).waitFor();
  }

  async openSection(name: 'Members' | 'My sessions' | 'Audit log'): Promise<void> {
    const tab = this.page
      .getByRole('navigation', { name: 'Sections' })
      .getByRole('button', { name, exact: true });
    await tab.click();
    await this.page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
  }

  async addMember(member: { email: string; name: string; role: string; password?: string }): Promise<void> {
    const form = this.page.getByRole('form', { name: 'Add a member' });
    await form.getByLabel('Email').fill(member.email);
    await form.getByLabel('Name').fill(member.name);
    await form.getByLabel('Role').selectOption(member.role);
    if (member.password !== undefined) await form.getByLabel(/^Initial password/).fill(member.password);
    await form.getByRole('button', { name: 'Add member' }).click();
    await this.memberRow(member.email).waitFor();
  }

  async suspend(email: string): Promise<void> {
    await this.page.getByRole('button', { name: `Suspend ${email}`, exact: true }).click();
  }

  get auditTable(): Locator {
    return this.page.getByRole('table', { name: 'Audit events' });
  }

  /** The Action column of the audit table, top (newest) to bottom. */
  async auditActions(): Promise<string[]> {
    const actionCells = this.auditTable.locator('tbody tr td:nth-child(2)');
    await actionCells.first().waitFor();
    return actionCells.allTextContents();
  }

  /** Presses "Verify chain" and returns the sentence the console reports. */
  async verifyChain(): Promise<string> {
    const result = this.page.getByRole('status', { name: 'Chain verification' });
    await this.page.getByRole('button', { name: 'Verify chain' }).click();
    // "Verifying…" first, then the verdict.
    await result.filter({ hasText: /^Chain / }).waitFor();
    return (await result.textContent()) ?? '';
  }
}
