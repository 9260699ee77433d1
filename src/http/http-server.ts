// The HTTP/1 server Fastify runs on, made here (Fastify's serverFactory) so a fast path can
// answer a request before Fastify sees it (forward-auth-fast-path.ts). Set up exactly as
// Fastify sets up its own: the same timeouts and per-socket request limit.
import http from 'node:http';
import type { FastifyServerFactory } from 'fastify';
import type { FastPath } from './forward-auth-fast-path.ts';

interface ServerOptions {
  readonly http?: http.ServerOptions;
  readonly keepAliveTimeout: number;
  readonly requestTimeout: number;
  readonly connectionTimeout: number;
  readonly maxRequestsPerSocket: number;
}

/** `fastPath()` is read on every request, so the path can be installed after the app is built. */
export function serverWithFastPath(fastPath: () => FastPath): FastifyServerFactory {
  return (handler, rawOptions) => {
    const options = rawOptions as unknown as ServerOptions;
    const server = http.createServer(options.http ?? {}, (request, response) => {
      if (!fastPath()(request, response)) handler(request, response);
    });
    server.keepAliveTimeout = options.keepAliveTimeout;
    server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };
}
