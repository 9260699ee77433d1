// /mcp over HTTP (MCP Streamable HTTP transport, stateless, with RFC 6750 Bearer challenges
// and RFC 9728 discovery): POST carries JSON-RPC; GET and DELETE answer 405, since a
// stateless server opens no event stream and has no session to end; OPTIONS answers CORS
// preflights, for browser-based clients (a bearer-only endpoint, so any origin may call it).
// The routes declare `public` because they authenticate every request themselves and each
// tool is checked against its own permission (tools.ts).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { authnErrors } from '../authn/index.ts';
import { GatehouseError } from '../core/errors.ts';
import { type BearerChallenge, bearerChallenge, mcpResourceMetadataUrl } from './challenge.ts';
import { mcpErrors } from './errors.ts';
import { createMcpService, type McpServiceDeps, type RenderedError } from './service.ts';

export interface McpRouteOptions extends McpServiceDeps {
  readonly publicUrl: string;
  /** What every API answer carries (no-store, nosniff), as on /v1. */
  readonly answerHeaders: Readonly<Record<string, string>>;
}

const CORS_HEADERS = Object.freeze({
  'access-control-allow-origin': '*',
  // The challenge is what a browser-based client needs to find the authorization server.
  'access-control-expose-headers': 'WWW-Authenticate',
});
const PREFLIGHT_HEADERS = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST',
  'access-control-allow-headers': 'Authorization, Content-Type, Accept, Mcp-Protocol-Version',
  'access-control-max-age': '3600',
});
const ALLOWED_METHODS = 'POST, OPTIONS';

/** The challenge a rendered refusal carries: every 401, and a 403 for missing scopes. */
function challengeFor(answer: RenderedError, missingScopes: readonly string[]): BearerChallenge | undefined {
  if (answer.status === 401) {
    return answer.body.error.code === authnErrors.authenticationRequired.code
      ? { error: 'none' }
      : { error: 'invalid_token', description: answer.body.error.message };
  }
  return missingScopes.length > 0 ? { error: 'insufficient_scope', scopes: missingScopes } : undefined;
}

export const mcpRoutes: FastifyPluginAsync<McpRouteOptions> = async (app, options) => {
  const mcp = createMcpService(options);
  const resourceMetadata = mcpResourceMetadataUrl(options.publicUrl);

  /** Answers a refusal in the /v1 error body, with the Bearer challenge where one applies. */
  function sendRefusal(
    request: FastifyRequest,
    reply: FastifyReply,
    thrown: unknown,
    missingScopes: readonly string[] = [],
  ): FastifyReply {
    const answer = options.renderError(thrown, request.id, request.log);
    void reply.status(answer.status).headers(answer.headers);
    const challenge = challengeFor(answer, missingScopes);
    if (challenge) reply.header('www-authenticate', bearerChallenge(resourceMetadata, challenge));
    return reply.send(answer.body);
  }

  // JSON only: a text/plain body (what a cross-site form can send) is refused with 415.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error, request, reply) => sendRefusal(request, reply, error));

  /** Runs before the body is read, so a caller without a valid credential costs no parsing. */
  async function authenticateCaller(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.headers(options.answerHeaders).headers(CORS_HEADERS);
    const call = await mcp.authenticate(request.ctx, request.headers.authorization);
    if (!call) throw new GatehouseError(authnErrors.authenticationRequired);
    request.ctx = call.ctx;
    request.auth = call.auth;
  }

  async function answerMcp(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const auth = request.auth!;
    const refused = mcp.scopeRefusal(auth.principal, request.body);
    if (refused) {
      sendRefusal(request, reply, refused.refusal, refused.scopes);
      return;
    }
    // The SDK's transport writes the answer on the raw response from here; the headers set
    // so far (request id, no-store, CORS) go with it.
    reply.hijack();
    for (const [name, value] of Object.entries(reply.getHeaders()))
      if (value !== undefined) reply.raw.setHeader(name, value);
    try {
      await mcp.answer({ ctx: request.ctx, auth }, request.raw, reply.raw, request.body);
    } catch (thrown) {
      const answer = options.renderError(thrown, request.id, request.log);
      if (reply.raw.headersSent) {
        reply.raw.destroy();
        return;
      }
      reply.raw
        .writeHead(answer.status, { ...answer.headers, 'content-type': 'application/json; charset=utf-8' })
        .end(JSON.stringify(answer.body));
    }
  }

  app.route({
    method: 'POST',
    url: '/mcp',
    config: { permission: 'public' },
    onRequest: authenticateCaller,
    handler: answerMcp,
  });

  app.route({
    method: 'OPTIONS',
    url: '/mcp',
    config: { permission: 'public' },
    handler: function preflightMcp(_request, reply) {
      return reply.status(204).headers(PREFLIGHT_HEADERS).send();
    },
  });

  app.route({
    method: ['GET', 'DELETE'],
    url: '/mcp',
    config: { permission: 'public' },
    handler: function refuseMcpMethod(request, reply) {
      reply.headers(options.answerHeaders).headers(CORS_HEADERS).header('allow', ALLOWED_METHODS);
      return sendRefusal(request, reply, new GatehouseError(mcpErrors.methodNotAllowed));
    },
  });
};
