// Every HTTP request the doctor makes goes through one probe: Node's fetch with a deadline
// per request, a cap on the body it will read, and redirects followed only within the
// request's origin (as the MCP SDK's `fetchWithinOrigin` does: same scheme, host and port,
// or the https form of an http URL on default ports; at most 5; 301/302/303 only for GET).
// A redirect anywhere else is returned unfollowed and named, so a step can report it
// instead of silently talking to another host.

export interface ProbeRequest {
  readonly method: 'GET' | 'POST' | 'OPTIONS';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface ProbeAnswer {
  /** The URL that answered (the request's, or the last one redirected to within its origin). */
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** Redirects followed within the origin, in order. */
  readonly redirects: readonly string[];
  /** A redirect that was not followed (to another origin, or one that changes a POST). */
  readonly unfollowedRedirect?: string;
}

export type Probe = (request: ProbeRequest) => Promise<ProbeAnswer>;

export type ProbeFailure = 'timeout' | 'too_large' | 'network';

/** A request that got no usable answer: it timed out, its body was too large, or no connection. */
export class ProbeError extends Error {
  constructor(
    readonly failure: ProbeFailure,
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProbeError';
  }
}

export interface ProbeLimits {
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
}

/** What the command uses: 5 s per request, 1 MiB per body. */
export const DEFAULT_PROBE_LIMITS: ProbeLimits = { timeoutMs: 5000, maxBodyBytes: 1024 * 1024 };

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** The SDK's rule: same scheme, host and port, or the https upgrade of a default-port http URL. */
function isWithinOrigin(from: URL, to: URL): boolean {
  if (from.protocol === to.protocol && from.hostname === to.hostname && from.port === to.port) return true;
  return (
    from.hostname === to.hostname &&
    from.protocol === 'http:' &&
    from.port === '' &&
    to.protocol === 'https:' &&
    to.port === ''
  );
}

/** A redirect target fit to print: no user info, query or fragment (they may carry secrets). */
function printableTarget(target: URL): string {
  const shown = new URL(target.href);
  shown.username = '';
  shown.password = '';
  shown.search = '';
  shown.hash = '';
  return shown.href;
}

/** Why fetch failed, in words: undici hides the system error (ECONNREFUSED, …) in `cause`. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return (error as Error).message;
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

async function readCappedBody(response: Response, url: string, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new ProbeError('too_large', url, `the answer is ${declared} bytes, more than the ${maxBytes} read`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ProbeError('too_large', url, `the answer is more than the ${maxBytes} bytes read`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** One request, one deadline: connecting, the headers and the whole body must fit in it. */
async function exchangeOnce(
  request: ProbeRequest,
  url: string,
  limits: ProbeLimits,
): Promise<{ response: Response; body: string }> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal,
    });
    // A redirect's body is never looked at.
    if (REDIRECT_STATUSES.has(response.status)) {
      await response.body?.cancel();
      return { response, body: '' };
    }
    return { response, body: await readCappedBody(response, url, limits.maxBodyBytes) };
  } catch (error) {
    if (error instanceof ProbeError) throw error;
    if (isTimeout(error) || signal.aborted)
      throw new ProbeError('timeout', url, `no complete answer within ${limits.timeoutMs / 1000} s`, {
        cause: error,
      });
    throw new ProbeError('network', url, `no answer: ${networkReason(error)}`, { cause: error });
  }
}

export function createProbe(limits: ProbeLimits = DEFAULT_PROBE_LIMITS): Probe {
  return async function probe(request: ProbeRequest): Promise<ProbeAnswer> {
    const redirects: string[] = [];
    let current = new URL(request.url);
    for (;;) {
      const { response, body } = await exchangeOnce(request, current.href, limits);
      const answer = {
        url: current.href,
        status: response.status,
        headers: response.headers,
        body,
        redirects,
      };
      const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get('location') : null;
      const target = location === null ? undefined : URL.parse(location, current.href);
      if (!target) return answer;
      // 301, 302 and 303 turn a request with a body into a GET: only 307 and 308 keep a POST.
      const keepsMethod = response.status === 307 || response.status === 308 || request.method !== 'POST';
      const addsUserinfo = target.username !== '' || target.password !== '';
      if (
        !keepsMethod ||
        addsUserinfo ||
        !isWithinOrigin(current, target) ||
        redirects.length === MAX_REDIRECTS
      )
        return { ...answer, unfollowedRedirect: printableTarget(target) };
      redirects.push(printableTarget(target));
      current = target;
    }
  };
}
