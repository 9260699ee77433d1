// Which tools a POST to /mcp calls, read from the parsed JSON-RPC body before the SDK's
// transport sees it, so a token lacking a tool's scope is refused with an HTTP 403 (RFC 6750
// §3.1), which MCP clients act on, rather than inside a JSON-RPC answer.

/**
 * The tool names of every `tools/call` request in one message or a batch (the SDK's
 * transport accepts both). Anything else — other methods, malformed messages — is left to
 * the transport, which answers it with a JSON-RPC error.
 */
export function calledToolNames(body: unknown): string[] {
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  const names: string[] = [];
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue;
    const { method, params } = message as { method?: unknown; params?: unknown };
    if (method !== 'tools/call' || typeof params !== 'object' || params === null) continue;
    const { name } = params as { name?: unknown };
    if (typeof name === 'string') names.push(name);
  }
  return names;
}
