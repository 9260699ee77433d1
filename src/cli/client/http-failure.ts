// What a request that never got an answer becomes: one line naming the server and why
// (refused, unknown host, timed out), never a stack trace.
import { CliError } from '../exit-codes.ts';

/** Whether `error` is fetch failing to get any answer (network, DNS, TLS, timeout). */
export function requestFailed(error: unknown): boolean {
  if (error instanceof DOMException) return error.name === 'TimeoutError' || error.name === 'AbortError';
  return error instanceof TypeError && (error.message === 'fetch failed' || error.cause !== undefined);
}

export function describeUnreachable(server: string, error: unknown): CliError {
  if (error instanceof DOMException && error.name === 'TimeoutError')
    return new CliError(`cannot reach ${server}: no answer in time`);
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return new CliError(`cannot reach ${server}: ${reason}`);
}
