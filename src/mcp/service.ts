// Gatehouse's MCP server (SPEC §4) over the official SDK: Streamable HTTP, stateless (no
// session id; a fresh McpServer and transport per POST, as the SDK's stateless example does),
// JSON answers rather than an event stream. Credentials go through the one resolver for the
// `mcp` surface, so an access token counts only when its `aud` is `<public url>/mcp`.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CredentialResolver } from '../authn/index.ts';
import { decideByCredential, type Permission } from '../authz/index.ts';
import type { Logger, Principal } from '../core/context.ts';
import { type Ctx, deriveCtx } from '../db/index.ts';
import { calledToolNames } from './tool-calls.ts';
import { type McpTool, mcpTools, type ToolCall, type ToolDeps } from './tools.ts';

/** A refusal rendered as /v1 renders it (http's jsonErrorAnswer), and logged. */
export interface RenderedError {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: {
    readonly error: { readonly code: string; readonly message: string; readonly field?: string };
  };
}

export type ErrorRenderer = (thrown: unknown, requestId: string, log: Logger) => RenderedError;

export interface McpServiceDeps extends ToolDeps {
  readonly resolver: CredentialResolver;
  readonly renderError: ErrorRenderer;
}

/**
 * Cookies are never looked at: /mcp serves programs, and a session cookie that a browser
 * attaches on its own would let any web page call tools as the signed-in user (CSRF).
 */
const NO_COOKIES: Readonly<Record<string, string | undefined>> = Object.freeze({});

// serverInfo names this build; read once, from the package this module ships in.
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

const INSTRUCTIONS =
  "Gatehouse decides who may do what in each organization. These tools read what the caller's credential may see: who it acts for, its organizations, and each organization's projects, members, API keys and (for admins) audit log. Organizations are named by slug or id; lists are paged with cursor and limit.";

const toolsByName: ReadonlyMap<string, McpTool> = new Map(mcpTools.map((tool) => [tool.name, tool]));

function resultOf(body: Record<string, unknown>, isError: boolean): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(body) }],
    structuredContent: body,
    ...(isError ? { isError: true } : {}),
  };
}

export function createMcpService(deps: McpServiceDeps) {
  /** The caller, or undefined when the request carries no credential; throws the resolver's refusal. */
  async function authenticate(ctx: Ctx, authorization: string | undefined): Promise<ToolCall | undefined> {
    const auth = await deps.resolver.authenticate(ctx, {
      authorization,
      cookies: NO_COOKIES,
      surface: 'mcp',
    });
    if (!auth) return undefined;
    return { ctx: deriveCtx(ctx, { principal: auth.principal }), auth };
  }

  /**
   * The refusal for a message (or batch) calling a tool whose permission the token's scopes
   * lack, with every such permission, to be answered as HTTP 403 before any tool runs.
   */
  function scopeRefusal(
    principal: Principal,
    body: unknown,
  ): { readonly refusal: unknown; readonly scopes: readonly Permission[] } | undefined {
    const scopes: Permission[] = [];
    let refusal: unknown;
    for (const name of calledToolNames(body)) {
      const permission = toolsByName.get(name)?.permission;
      if (permission === undefined || scopes.includes(permission)) continue;
      const decision = decideByCredential(principal, permission);
      // Only scopes: a read-only key or a role is refused by the tool itself, as a tool error.
      if (decision.allowed || decision.reason !== 'scope') continue;
      scopes.push(permission);
      refusal ??= deps.guard.refusalFor(decision, permission);
    }
    return scopes.length === 0 ? undefined : { refusal, scopes };
  }

  /**
   * Runs one tool. Every failure becomes a tool result with `isError` and the /v1 error body
   * (stable code, public message): what the SDK would otherwise send is the raw message of
   * whatever was thrown, database errors included.
   */
  async function runTool(tool: McpTool, call: ToolCall, input: Record<string, unknown>) {
    try {
      return resultOf(await tool.run(deps, call, input), false);
    } catch (thrown) {
      return resultOf(deps.renderError(thrown, call.ctx.requestId, call.ctx.log).body, true);
    }
  }

  function serverFor(call: ToolCall): McpServer {
    const server = new McpServer(
      { name: 'gatehouse', title: 'Gatehouse', version },
      { instructions: INSTRUCTIONS },
    );
    for (const tool of mcpTools) {
      server.registerTool(
        tool.name,
        {
          title: tool.title,
          description: tool.description,
          inputSchema: tool.input,
          annotations: { readOnlyHint: true, openWorldHint: false },
        },
        (input) => runTool(tool, call, input),
      );
    }
    // What the transport refuses (an Accept header without JSON, a bad protocol version) is
    // answered to the client by the SDK; the log keeps the reason.
    server.server.onerror = (error) => call.ctx.log.info({ reason: error.message }, 'MCP message refused');
    return server;
  }

  /** Answers one POST on the raw response, with the body Fastify already parsed (and size-limited). */
  async function answer(call: ToolCall, request: IncomingMessage, response: ServerResponse, body: unknown) {
    const server = serverFor(call);
    // No DNS-rebinding check (allowedHosts): it guards servers that trust whoever reaches
    // them, and /mcp trusts only the bearer credential, which a rebinding page never has.
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response, body);
  }

  return { authenticate, scopeRefusal, answer };
}

export type McpService = ReturnType<typeof createMcpService>;
