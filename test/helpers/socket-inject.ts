// app.inject() answers without a socket, so it never reaches the HTTP server's own request
// handler, where the forward-auth fast path runs (src/http/forward-auth-fast-path.ts). This
// sends the same kind of request over loopback to the test app, listening on a port of its
// own, and returns the answer in the shape the tests read from inject().
import http from 'node:http';
import type { InjectOptions } from 'fastify';
import type { TestApp } from './app.ts';

/** What the tests read of an answer, from inject() or from a socket alike. */
export interface Answer {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string | string[] | number | undefined>>;
  readonly body: string;
  // biome-ignore lint/suspicious/noExplicitAny: the same loosely typed JSON as inject()'s json()
  json(): any;
}

const listening = new WeakMap<TestApp, Promise<string>>();

/** The test app's own loopback URL; it starts listening on first use. */
export function baseUrlOf(t: TestApp): Promise<string> {
  let url = listening.get(t);
  if (!url) {
    url = t.app.listen({ host: '127.0.0.1', port: 0 });
    listening.set(t, url);
  }
  return url;
}

type SocketRequest = Pick<InjectOptions, 'method' | 'url' | 'headers' | 'cookies' | 'payload'>;

/** The path is sent exactly as given (fetch would drop an empty `?`, which the tests rely on). */
export async function overSocket(t: TestApp, options: SocketRequest): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {}))
    if (value !== undefined) headers[name] = String(value);
  if (options.cookies)
    headers.cookie = Object.entries(options.cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; ');
  let body: string | undefined;
  if (options.payload !== undefined) {
    body = typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload);
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const { port } = new URL(await baseUrlOf(t));
  return new Promise<Answer>((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.url as string,
        headers,
        timeout: 5000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () =>
          resolve({
            statusCode: response.statusCode ?? 0,
            headers: response.headers,
            body: text,
            json: () => JSON.parse(text),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`${options.url}: no answer within 5 s`)));
    request.on('error', reject);
    request.end(body);
  });
}
