// The two interactive sign-ins of `gatehouse auth login` (SPEC §9): the system browser with a
// loopback redirect, and the device code for machines without one. Both end in an OAuth
// credential for the API resource, or a CliError saying which step failed; both give up
// cleanly after the timeout, closing what they opened.
import type { Configuration } from 'openid-client';
import type { BrowserEnvironment } from '../../config.ts';
import { CliError } from '../exit-codes.ts';
import { tell } from '../output.ts';
import type { OauthCredential } from './config-file.ts';
import { listenOnLoopback } from './loopback.ts';
import {
  finishAuthorization,
  finishDeviceAuthorization,
  type GatehouseServer,
  startAuthorization,
  startDeviceAuthorization,
} from './oauth.ts';
import { type Spinner, startSpinner } from './progress.ts';
import { openSystemBrowser } from './system-browser.ts';

export interface SignInOptions {
  readonly timeoutMs: number;
}

function timedOut(what: string, timeoutMs: number): CliError {
  return new CliError(
    `gave up waiting for ${what} after ${Math.round(timeoutMs / 1000)} s; run \`gatehouse auth login\` again`,
  );
}

/**
 * Authorization code + PKCE through `http://127.0.0.1:<port>/callback`. `browser` undefined
 * means "do not open one": the URL is printed either way, for copy and paste.
 */
export async function signInWithBrowser(
  configuration: Configuration,
  server: GatehouseServer,
  browser: BrowserEnvironment | undefined,
  options: SignInOptions,
): Promise<OauthCredential> {
  const loopback = await listenOnLoopback();
  let timer: NodeJS.Timeout | undefined;
  let spinner: Spinner | undefined;
  try {
    const request = await startAuthorization(configuration, server, loopback.redirectUri);
    loopback.expectState(request.state);
    const opened = browser !== undefined && (await openSystemBrowser(browser, request.url.href));
    tell(
      opened
        ? 'Opened your browser to sign in. If it did not open, visit:'
        : 'To sign in, open this URL in a browser on this machine:',
    );
    tell(`  ${request.url.href}`);
    spinner = startSpinner('Waiting for the sign-in in the browser…');
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut('the browser sign-in', options.timeoutMs)), options.timeoutMs);
    });
    const callback = await Promise.race([loopback.callback, deadline]);
    spinner.stop();
    spinner = undefined;
    try {
      const credential = await finishAuthorization(configuration, server, request, callback.url);
      callback.finish({
        ok: true,
        message:
          'You are signed in to the Gatehouse CLI. You can close this tab and go back to the terminal.',
      });
      return credential;
    } catch (error) {
      callback.finish({
        ok: false,
        message: `${(error as Error).message}. Go back to the terminal and try again.`,
      });
      throw error;
    }
  } finally {
    spinner?.stop();
    clearTimeout(timer);
    loopback.close();
  }
}

/** The device authorization grant: the person enters the code on any device with a browser. */
export async function signInWithDeviceCode(
  configuration: Configuration,
  server: GatehouseServer,
  options: SignInOptions,
): Promise<OauthCredential> {
  const authorization = await startDeviceAuthorization(configuration, server);
  tell(`To sign in, open ${authorization.verification_uri} on any device and enter the code:`);
  tell(`  ${authorization.user_code}`);
  if (authorization.verification_uri_complete) tell(`or open ${authorization.verification_uri_complete}`);
  const limitMs = Math.min(options.timeoutMs, authorization.expires_in * 1000);
  const spinner = startSpinner('Waiting for the code to be entered…');
  const signal = AbortSignal.timeout(limitMs);
  try {
    return await finishDeviceAuthorization(configuration, server, authorization, signal);
  } catch (error) {
    if (signal.aborted) throw timedOut('the device sign-in', limitMs);
    throw error;
  } finally {
    spinner.stop();
  }
}
