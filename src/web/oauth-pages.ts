// The consent page of the authorization server (SPEC §4): which client asks, where it will
// send the user back to, what it may do and for which resource. Plain forms, no JavaScript.
import { html, SafeHtml } from './html.ts';
import { layout } from './layout.ts';

export interface ConsentPageInput {
  readonly csrfToken: string;
  /** Where the decision is posted. */
  readonly action: string;
  readonly clientName: string;
  readonly clientId: string;
  /** The host the browser is sent back to with the code; none in the device flow. */
  readonly redirectHost: string | undefined;
  /** The redirect goes to this machine (a loopback address): any local program could be listening. */
  readonly redirectIsLocal: boolean;
  readonly userEmail: string;
  readonly resource: string;
  readonly scopes: readonly string[];
}

export function renderConsentPage(input: ConsentPageInput): string {
  return layout(
    'Authorize access',
    html`<h1>Authorize ${input.clientName}?</h1>
<p><strong>${input.clientName}</strong> <span class="muted">(${input.clientId})</span> asks to act as <strong>${input.userEmail}</strong> on <code>${input.resource}</code>.</p>
${
  input.redirectHost === undefined
    ? html`<p>It signs in on the device that showed you the code.</p>`
    : html`<p>It will be sent back to <strong>${input.redirectHost}</strong>.</p>`
}
${
  input.redirectIsLocal
    ? html`<p class="error" role="alert">This sends the authorization to a program on your own computer. Continue only if you just started this sign-in from an application you trust.</p>`
    : ''
}
<p>It may:</p>
<ul>
${input.scopes.map((scope) => html`<li><code>${scope}</code></li>`)}
</ul>
<p class="muted">It can never do more than your role in each organization allows. You can revoke this at any time.</p>
<form method="post" action="${input.action}">
<input type="hidden" name="csrf_token" value="${input.csrfToken}">
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  );
}

/**
 * A page that moves on to `location` by itself. After a form post (sign-in), the browser
 * applies the page's CSP form-action to every redirect that follows, and the authorization
 * server's last redirect goes to the client's own origin; a fresh navigation starts a new chain.
 */
export function renderContinueToClientPage(location: string): string {
  return layout(
    'Signed in',
    html`<meta http-equiv="refresh" content="0;url=${location}">
<h1>Signed in</h1>
<p><a id="continue" href="${location}">Continue to the application</a></p>`,
  );
}

/** An authorization request that cannot go back to the client (e.g. an unregistered redirect URI). */
export function renderOauthErrorPage(error: string, description: string | undefined): string {
  return layout(
    'Request refused',
    html`<h1>This sign-in request was refused</h1>
<p class="error" role="alert">${description ?? error}</p>
<p class="muted">Error <code>${error}</code>. Return to the application and start again; if it keeps happening, its administrator must fix its registration.</p>`,
  );
}

// The device authorization grant (RFC 8628) pages. `form` is the authorization server's own
// form (its action, anti-forgery field and the code's input); the buttons here submit it.

export function renderDeviceCodePage(input: { form: string; error?: string }): string {
  return layout(
    'Enter your code',
    html`<h1>Sign in a device</h1>
${input.error ? html`<p class="error" role="alert">${input.error}</p>` : html`<p>Enter the code your device shows.</p>`}
${new SafeHtml(input.form)}
<button type="submit" form="op.deviceInputForm">Continue</button>`,
  );
}

export function renderDeviceConfirmPage(input: {
  form: string;
  clientName: string;
  userCode: string;
}): string {
  return layout(
    'Confirm the device',
    html`<h1>Is this your device?</h1>
<p><strong>${input.clientName}</strong> asks to sign in. Continue only if your device shows this code:</p>
<p><code class="user-code">${input.userCode}</code></p>
${new SafeHtml(input.form)}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" class="secondary">Cancel</button>`,
  );
}

export function renderDeviceDonePage(clientName: string): string {
  return layout(
    'Device signed in',
    html`<h1>Device signed in</h1>
<p><strong>${clientName}</strong> is signed in. You can close this page and return to your device.</p>`,
  );
}
