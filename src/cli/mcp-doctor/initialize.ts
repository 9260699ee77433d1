// The MCP `initialize` request as the official SDK's Streamable HTTP client sends it: a
// JSON-RPC POST accepting JSON or an event stream, with the SDK's latest protocol version.
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { ProbeRequest } from './http-probe.ts';

export { LATEST_PROTOCOL_VERSION };

export function initializeRequest(serverUrl: URL, accessToken?: string): ProbeRequest {
  return {
    method: 'POST',
    url: serverUrl.href,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(accessToken !== undefined && { authorization: `Bearer ${accessToken}` }),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'gatehouse-mcp-doctor', version: '1.0.0' },
      },
    }),
  };
}

/** The `serverInfo.name` of an initialize result, from a JSON or an event-stream answer. */
export function serverNameOf(body: string): string | undefined {
  const json = body.trimStart().startsWith('{')
    ? body
    : body
        .split(/\r?\n/)
        .find((line) => line.startsWith('data:'))
        ?.slice(5);
  try {
    const message = JSON.parse(json ?? '') as { result?: { serverInfo?: { name?: unknown } } };
    const name = message.result?.serverInfo?.name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
