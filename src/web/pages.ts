// Server-rendered pages for sign-in, setup and errors. They post plain forms and need no
// JavaScript (SPEC §10).
import { html } from './html.ts';
import { layout } from './layout.ts';

function errorBox(message: string | undefined) {
  return message ? html`<p class="error" role="alert">${message}</p>` : '';
}

export interface LoginPageInput {
  csrfToken: string;
  email?: string;
  error?: string;
  /** A prompt for the next step (not an error). */
  notice?: string;
  returnTo?: string;
}

export function renderLoginPage(input: LoginPageInput): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
${errorBox(input.error)}
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="${input.csrfToken}">
${input.returnTo ? html`<input type="hidden" name="return_to" value="${input.returnTo}">` : ''}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${input.email ?? ''}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<p class="muted">If your organization uses single sign-on, leave the password empty: you will be sent to its sign-in page.</p>
<button type="submit">Sign in</button>
</form>`,
  );
}

export interface SetupPageInput {
  csrfToken: string;
  token: string;
  error?: string;
  values?: { email?: string; name?: string; org_name?: string; org_slug?: string };
}

export function renderSetupPage(input: SetupPageInput): string {
  const v = input.values ?? {};
  return layout(
    'Set up Gatehouse',
    html`<h1>Set up Gatehouse</h1>
<p class="muted">Create the first administrator and organization. This link works once.</p>
${errorBox(input.error)}
<form method="post" action="/setup">
<input type="hidden" name="csrf_token" value="${input.csrfToken}">
<input type="hidden" name="token" value="${input.token}">
<label for="name">Your name</label>
<input id="name" name="name" required maxlength="200" value="${v.name ?? ''}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${v.email ?? ''}">
<label for="password">Password (at least 12 characters)</label>
<input id="password" name="password" type="password" autocomplete="new-password" required minlength="12">
<label for="org_name">Organization name</label>
<input id="org_name" name="org_name" required maxlength="200" value="${v.org_name ?? ''}">
<label for="org_slug">Organization slug</label>
<input id="org_slug" name="org_slug" required pattern="[a-z0-9][a-z0-9\\-]*[a-z0-9]" maxlength="40" value="${v.org_slug ?? ''}">
<button type="submit">Create administrator</button>
</form>`,
  );
}

export function renderSignedOutPage(csrfToken: string, signedIn: boolean): string {
  return layout(
    'Sign out',
    signedIn
      ? html`<h1>Sign out?</h1>
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="${csrfToken}"><button type="submit">Sign out</button></form>`
      : html`<h1>You are signed out</h1><p><a href="/login">Sign in again</a></p>`,
  );
}

export function renderErrorPage(input: { status: number; message: string; requestId: string }): string {
  return layout(
    'Error',
    html`<h1>${input.status === 404 ? 'Not found' : input.status === 403 ? 'Not allowed' : 'Something went wrong'}</h1>
<p class="error" role="alert">${input.message}</p>
<p class="muted">Request id: <code>${input.requestId}</code></p>
<p><a href="/">Back to start</a></p>`,
  );
}

/**
 * Sends the browser on to its organization's sign-in. A page with a refresh and a link, not
 * a redirect: the login form's `form-action 'self'` would block a redirect chain that
 * ends at the IdP, and this navigation is not a form submission.
 */
export function renderContinueToSsoPage(location: string): string {
  return layout(
    'Continue to sign-in',
    html`<meta http-equiv="refresh" content="0;url=${location}">
<h1>Continue to sign-in</h1>
<p>Your organization signs you in with single sign-on.</p>
<p><a id="continue" href="${location}">Continue to your organization’s sign-in page</a></p>`,
  );
}

export interface SsoTestReportInput {
  steps: readonly { step: string; ok: boolean; detail: string }[];
}

/** The step-by-step result of an admin's test sign-in: what the IdP returned, which check failed. */
export function renderSsoTestReport(input: SsoTestReportInput): string {
  const allOk = input.steps.every((s) => s.ok);
  return layout(
    'SSO test sign-in',
    html`<h1>Test sign-in ${allOk ? 'succeeded' : 'failed'}</h1>
<p class="muted">Nobody was signed in. This is what the identity provider returned and what Gatehouse checked.</p>
<ol class="report">${input.steps.map((s) => html`<li class="${s.ok ? 'ok' : 'error'}"><strong>${s.step}</strong>: ${s.ok ? 'passed' : 'FAILED'} — ${s.detail}</li>`)}</ol>`,
  );
}
