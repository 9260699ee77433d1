// The loopback redirect of a browser login (RFC 8252 §7.3): a server on 127.0.0.1 at a port
// the system picks, for one authorization response: the first that carries this sign-in's
// `state` (any other local process or web page can reach the port, and must not be able to
// end the sign-in). The browser's request is answered only once the CLI knows how the
// sign-in ended, so the tab says "done" or what went wrong.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { html } from '../../web/index.ts';

const CALLBACK_PATH = '/callback';

export interface LoopbackCallback {
  /** The full URL the browser was sent to, with code, state and iss. */
  readonly url: URL;
  /** Answers the browser with the result page and closes the server. */
  finish(outcome: { ok: boolean; message: string }): void;
}

export interface LoopbackReceiver {
  readonly redirectUri: string;
  /** Which `state` the awaited response carries; until it is set, every request is refused. */
  expectState(state: string): void;
  /** The first request to the callback path with the expected state. */
  readonly callback: Promise<LoopbackCallback>;
  close(): void;
}

function page(ok: boolean, message: string): string {
  const title = ok ? 'Signed in to Gatehouse' : 'Gatehouse sign-in did not complete';
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#1f2328}</style>
</head><body><main><h1>${title}</h1><p>${message}</p></main></body></html>`.toString();
}

function respond(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'referrer-policy': 'no-referrer',
  });
  response.end(body);
}

export async function listenOnLoopback(): Promise<LoopbackReceiver> {
  let deliver: (callback: LoopbackCallback) => void = () => {};
  const callback = new Promise<LoopbackCallback>((resolve) => {
    deliver = resolve;
  });
  let received = false;
  let expected: string | undefined;
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    // Only the query is taken from the request: the origin and path are the redirect URI's,
    // whatever form the request line had.
    const query = new URL(request.url ?? '/', 'http://127.0.0.1').searchParams;
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== CALLBACK_PATH) {
      respond(response, 404, page(false, 'Nothing here: this address only receives a Gatehouse sign-in.'));
      return;
    }
    if (received) {
      respond(response, 409, page(false, 'This sign-in was already received; you can close this tab.'));
      return;
    }
    if (expected === undefined || query.get('state') !== expected) {
      respond(response, 400, page(false, 'This is not the sign-in the Gatehouse CLI is waiting for.'));
      return;
    }
    received = true;
    const url = new URL(redirectUri);
    url.search = query.toString();
    deliver({
      url,
      finish: ({ ok, message }) => {
        respond(response, ok ? 200 : 400, page(ok, message));
        server.close();
      },
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as { port: number }).port;
  const redirectUri = `http://127.0.0.1:${port}${CALLBACK_PATH}`;
  return {
    redirectUri,
    expectState: (state) => {
      expected = state;
    },
    callback,
    close: () => {
      server.close();
      server.closeAllConnections();
    },
  };
}
