// Mounts the authorization server (provider.ts) in the Fastify app: everything under /oauth
// is handed to oidc-provider's own request handler, and its metadata is also served where
// clients look for it outside /oauth — RFC 8414 inserts the issuer's path after
// `/.well-known/oauth-authorization-server`, and many MCP clients try the root first.
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { isGatehouseError } from '../core/errors.ts';
import { OAUTH_PATH, oauthIssuer, RESOURCE_SCOPES } from './provider.ts';
import { apiResource, mcpResource } from './service.ts';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'] as const;
const DISCOVERY = '/.well-known/openid-configuration';
const PROTECTED_RESOURCE = '/.well-known/oauth-protected-resource';

/** Where oidc-provider reads the mount path from (Express's convention, which it follows). */
type MountedRequest = IncomingMessage & { originalUrl?: string };

/** Each provider's request handler, made once (callback() composes its middleware anew). */
const handlers = new WeakMap<Provider, ReturnType<Provider['callback']>>();

function handlerOf(provider: Provider): ReturnType<Provider['callback']> {
  let handler = handlers.get(provider);
  if (!handler) {
    handler = provider.callback();
    handlers.set(provider, handler);
  }
  return handler;
}

/**
 * RFC 9728 protected-resource metadata for Gatehouse's own resources: the path-inserted
 * document for each, and the MCP server's at the root, where MCP clients look when the
 * path-inserted one is missing. Public and read by browser-based clients: CORS is open.
 */
function registerResourceMetadata(app: FastifyInstance, publicUrl: string): void {
  const issuer = oauthIssuer(publicUrl);
  const documentFor = (resource: string) => ({
    resource,
    authorization_servers: [issuer],
    scopes_supported: [...RESOURCE_SCOPES],
    bearer_methods_supported: ['header'],
  });
  const served: [string, string][] = [
    [`${PROTECTED_RESOURCE}/mcp`, mcpResource(publicUrl)],
    [`${PROTECTED_RESOURCE}/v1`, apiResource(publicUrl)],
    [PROTECTED_RESOURCE, mcpResource(publicUrl)],
  ];
  for (const [url, resource] of served) {
    const document = documentFor(resource);
    app.route({
      method: ['GET', 'OPTIONS'],
      url,
      config: { permission: 'public' },
      handler: (request, reply) => {
        reply.header('access-control-allow-origin', '*').header('cache-control', 'public, max-age=3600');
        if (request.method === 'OPTIONS')
          return reply.header('access-control-allow-methods', 'GET').status(204).send();
        return document;
      },
    });
  }
}

/** Where clients present secrets, codes and refresh tokens: the per-address failure limit applies. */
const CLIENT_AUTH_PATHS = new Set(['/token', '/introspect', '/revoke']);
const REGISTRATION_PATH = '/register';

export interface OauthRouteOptions {
  /** The current provider: it is rebuilt when the signing keys change. */
  readonly provider: () => Provider;
  readonly publicUrl: string;
  /** Throws the 429 (a GatehouseError with Retry-After) while the address is over its budget. */
  readonly checkClientAddress: (address: string | undefined) => void;
  /** The same for client registrations, counting this one. */
  readonly admitRegistration: (address: string | undefined) => void;
}

/**
 * An address over its failure budget gets 429 with Retry-After before the library looks at
 * what it sent, in RFC 6749's error shape (this is /oauth, not /v1).
 */
function refusedAddress(
  request: FastifyRequest,
  reply: FastifyReply,
  check: (address: string) => void,
): boolean {
  try {
    check(request.ip);
    return false;
  } catch (error) {
    if (!isGatehouseError(error) || error.status !== 429) throw error;
    void reply
      .status(429)
      .headers({ ...error.headers, 'cache-control': 'no-store' })
      .send({ error: 'temporarily_unavailable', error_description: error.message });
    return true;
  }
}

export async function oauthRoutes(app: FastifyInstance, options: OauthRouteOptions): Promise<void> {
  registerResourceMetadata(app, options.publicUrl);
  /**
   * Hands the request to oidc-provider as if it had arrived at /oauth + `path`: the library
   * takes its mount path (and so every URL it advertises) from the difference.
   */
  function forward(request: FastifyRequest, reply: FastifyReply, path: string): void {
    reply.hijack();
    const raw = request.raw as MountedRequest;
    // What Fastify concluded from GATEHOUSE_TRUST_PROXY, never a client's own forwarding headers.
    raw.headers['x-forwarded-proto'] = request.protocol;
    raw.headers['x-forwarded-host'] = request.host;
    raw.headers['x-forwarded-for'] = request.ip;
    raw.originalUrl = `${OAUTH_PATH}${path}`;
    raw.url = path;
    void handlerOf(options.provider())(raw, reply.raw);
  }

  await app.register(async (scope) => {
    // oidc-provider reads request bodies itself (forms and JSON): Fastify must leave the
    // stream alone.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const mounted = {
      method: [...METHODS],
      config: { permission: 'public' as const, csrf: 'not_a_state_change' as const },
      handler: (request: FastifyRequest, reply: FastifyReply) => {
        const url = request.raw.url ?? OAUTH_PATH;
        const path = url.slice(OAUTH_PATH.length) || '/';
        const endpoint = path.split('?')[0]!;
        if (request.method === 'POST' && CLIENT_AUTH_PATHS.has(endpoint)) {
          if (refusedAddress(request, reply, options.checkClientAddress)) return;
        }
        if (endpoint === REGISTRATION_PATH) {
          // Browser-based MCP clients register from their own origin; registration is open
          // to anyone anyway (and limited per address), so any origin may read the answer.
          reply.raw.setHeader('access-control-allow-origin', '*');
          if (request.method === 'OPTIONS') {
            void reply
              .headers({
                'access-control-allow-methods': 'POST',
                'access-control-allow-headers': 'content-type',
                'access-control-max-age': '600',
              })
              .status(204)
              .send();
            return;
          }
          if (request.method === 'POST' && refusedAddress(request, reply, options.admitRegistration)) return;
        }
        forward(request, reply, path);
      },
    };
    scope.route({ ...mounted, url: OAUTH_PATH });
    scope.route({ ...mounted, url: `${OAUTH_PATH}/*` });
    const metadata = {
      method: ['GET', 'OPTIONS'] as ('GET' | 'OPTIONS')[],
      config: { permission: 'public' as const },
      handler: (request: FastifyRequest, reply: FastifyReply) => forward(request, reply, DISCOVERY),
    };
    for (const url of [
      '/.well-known/oauth-authorization-server',
      `/.well-known/oauth-authorization-server${OAUTH_PATH}`,
      DISCOVERY,
      `${DISCOVERY}${OAUTH_PATH}`,
    ])
      scope.route({ ...metadata, url });
  });
}
