// Calls to Gatehouse's JSON API (/v1) with a bearer credential. A refusal becomes one line
// with the server's stable code and the field at fault; 401 means "not authenticated"
// (exit 3), whatever the kind of credential.
import { CliError, exitCodes } from '../exit-codes.ts';
import { describeUnreachable } from './http-failure.ts';

export const USER_AGENT = 'gatehouse-cli/0.1';
const REQUEST_TIMEOUT_MS = 30_000;

interface ErrorBody {
  error?: { code?: string; message?: string; field?: string };
}

export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** From `/v1/…` on, already encoded. */
  readonly path: string;
  readonly body?: unknown;
}

export async function callApi<T>(
  server: string,
  bearer: string,
  request: ApiRequest,
  credentialSource: string,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${server}${request.path}`, {
      method: request.method,
      headers: {
        authorization: `Bearer ${bearer}`,
        accept: 'application/json',
        'user-agent': USER_AGENT,
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw describeUnreachable(server, error);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new CliError(
      `${server} answered ${request.method} ${request.path} with ${response.status} and a body that is not JSON`,
    );
  }
  if (response.ok) return body as T;
  const error = (body as ErrorBody | undefined)?.error;
  const said = error?.message ?? `HTTP ${response.status}`;
  const code = error?.code ? ` (${error.code}${error.field ? `, field ${error.field}` : ''})` : '';
  if (response.status === 401)
    throw new CliError(
      `the server refused the credential from ${credentialSource}: ${said}${code}; sign in again with \`gatehouse auth login\``,
      exitCodes.unauthenticated,
    );
  throw new CliError(`${said}${code}`);
}
