// Talking to Gatehouse's MCP server at /mcp over real HTTP: as an MCP client does, through the
// official SDK's Client and Streamable HTTP transport, and as an attacker does, with raw
// JSON-RPC POSTs whose status and headers the tests read. Access tokens for the MCP resource
// are issued by the app's own authorization server, as its token endpoint would.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { TestApp } from './app.ts';
import { PUBLIC_URL } from './oauth.ts';

export { userAccessToken } from './oauth.ts';

import { baseUrlOf } from './socket-inject.ts';

export const API_RESOURCE = `${PUBLIC_URL}/v1`;
export const MCP_RESOURCE_METADATA = `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp`;
const REQUEST_TIMEOUT_MS = 5000;

/** An SDK client connected to the app's /mcp with `bearer`; closed when the test ends. */
export async function connectMcp(t: TestApp, bearer: string, test: TestContext) {
  const url = new URL('/mcp', await baseUrlOf(t));
  const client = new Client({ name: 'gatehouse-tests', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(url, {
      requestInit: { headers: { authorization: `Bearer ${bearer}` } },
    }),
  );
  test.after(() => client.close());
  return client;
}

export interface ToolAnswer {
  readonly isError: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: tool output is loosely typed JSON
  readonly body: any;
}

/** Calls a tool and returns its JSON answer, checking that the text and structured forms agree. */
export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await client.callTool({ name, arguments: args });
  const content = result.content as { type: string; text: string }[];
  assert.equal(content.length, 1, `one content block from ${name}`);
  assert.equal(content[0]!.type, 'text');
  const body = JSON.parse(content[0]!.text);
  assert.deepEqual(result.structuredContent, body, `${name}: structuredContent is the text's JSON`);
  return { isError: result.isError === true, body } as ToolAnswer;
}

/** Asserts a tool answered with a Gatehouse error of `code` (a tool result, not an HTTP error). */
export function assertToolError(answer: ToolAnswer, code: string, field?: string): void {
  assert.equal(answer.isError, true, JSON.stringify(answer.body));
  assert.equal(answer.body.error.code, code, JSON.stringify(answer.body));
  assert.equal(typeof answer.body.error.request_id, 'string');
  if (field !== undefined) assert.equal(answer.body.error.field, field, JSON.stringify(answer.body));
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: loosely typed JSON, as inject()'s json()
  json(): any;
}

/** A request to /mcp as a hand-written client sends it (a JSON-RPC POST unless told). */
export async function rawMcp(
  t: TestApp,
  {
    method = 'POST',
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<RawAnswer> {
  const response = await fetch(new URL('/mcp', await baseUrlOf(t)), {
    method,
    headers: {
      accept: 'application/json, text/event-stream',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

/** A JSON-RPC `tools/call` message, as a client sends it. */
export function toolCall(id: number, name: string, args: Record<string, unknown> = {}) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } };
}
