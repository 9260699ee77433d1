// Step 4, CORS: browser-based MCP clients (the MCP Inspector, web chat apps) read the
// metadata documents and call the token, registration and MCP endpoints from another
// origin. Each is asked as a browser asks (a preflight, Fetch standard §4.8), from
// https://doctor.invalid, and the answer judged as a browser judges it. The metadata
// documents are also fetched with an Origin, since a plain GET needs no preflight, only
// Access-Control-Allow-Origin on the answer. Unreadable metadata stops every browser-based
// client (fail); the other endpoints are only needed by some (warn).
import { type Probe, type ProbeAnswer, ProbeError, type ProbeRequest } from './http-probe.ts';
import type { StepReport, StepStatus, TriedUrl } from './report.ts';
import { triedAnswer, triedFailure } from './report.ts';

const DOCTOR_ORIGIN = 'https://doctor.invalid';

export interface CorsTarget {
  /** What it is, in the report: "token endpoint". */
  readonly name: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  /** The non-safelisted request headers a browser lists in Access-Control-Request-Headers. */
  readonly headers: readonly string[];
  /** Metadata documents: every browser-based client needs them, so missing CORS fails the step. */
  readonly required: boolean;
}

export interface CorsVerdict {
  readonly ok: boolean;
  /** What the answer allows, in words ("origin *, methods GET"). */
  readonly allows: string;
  readonly problem?: string;
}

function listHeader(headers: Headers, name: string): string[] {
  return (headers.get(name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Whether Access-Control-Allow-Origin lets `origin` read the answer (no credentials are sent). */
function originAllowed(headers: Headers, origin: string): boolean {
  const allowed = headers.get('access-control-allow-origin')?.trim();
  return allowed === '*' || allowed === origin;
}

function describeAllowed(headers: Headers): string {
  const parts = [`origin ${headers.get('access-control-allow-origin') ?? '(none)'}`];
  const methods = headers.get('access-control-allow-methods');
  if (methods) parts.push(`methods ${methods}`);
  const allowedHeaders = headers.get('access-control-allow-headers');
  if (allowedHeaders) parts.push(`headers ${allowedHeaders}`);
  return parts.join(', ');
}

/**
 * The Fetch standard's CORS-preflight check for a request without credentials: an ok
 * status, the origin allowed, the method allowed (GET and POST always are), and every
 * requested header listed — `*` covers any header but Authorization, which must be named.
 */
export function judgePreflight(
  answer: Pick<ProbeAnswer, 'status' | 'headers'>,
  target: Pick<CorsTarget, 'method' | 'headers'>,
  origin: string = DOCTOR_ORIGIN,
): CorsVerdict {
  const allows = describeAllowed(answer.headers);
  if (answer.status < 200 || answer.status >= 300)
    return { ok: false, allows, problem: `preflight answered ${answer.status}` };
  if (!originAllowed(answer.headers, origin))
    return { ok: false, allows, problem: 'preflight allows no other origin (Access-Control-Allow-Origin)' };
  const methods = listHeader(answer.headers, 'access-control-allow-methods').map((m) => m.toUpperCase());
  const safelisted = target.method === 'GET' || target.method === 'POST';
  if (!safelisted && !methods.includes(target.method) && !methods.includes('*'))
    return { ok: false, allows, problem: `preflight does not allow ${target.method}` };
  const allowedHeaders = new Set(
    listHeader(answer.headers, 'access-control-allow-headers').map((h) => h.toLowerCase()),
  );
  const missing = target.headers.filter(
    (header) => !allowedHeaders.has(header) && !(allowedHeaders.has('*') && header !== 'authorization'),
  );
  if (missing.length > 0)
    return {
      ok: false,
      allows,
      problem: `preflight does not allow the header${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
    };
  return { ok: true, allows };
}

/** A plain cross-origin GET: the answer itself must carry Access-Control-Allow-Origin. */
export function judgeSimpleGet(
  answer: Pick<ProbeAnswer, 'status' | 'headers'>,
  origin = DOCTOR_ORIGIN,
): CorsVerdict {
  const allows = describeAllowed(answer.headers);
  return originAllowed(answer.headers, origin)
    ? { ok: true, allows }
    : { ok: false, allows, problem: `GET answered ${answer.status} without Access-Control-Allow-Origin` };
}

/** The challenge is useless to a browser that cannot read WWW-Authenticate (not a safelisted response header). */
export function judgeChallengeExposure(
  answer: Pick<ProbeAnswer, 'status' | 'headers'>,
  origin = DOCTOR_ORIGIN,
): CorsVerdict {
  const allows = describeAllowed(answer.headers);
  if (!originAllowed(answer.headers, origin))
    return {
      ok: false,
      allows,
      problem: `the ${answer.status} answer to a cross-origin POST has no Access-Control-Allow-Origin`,
    };
  const exposed = listHeader(answer.headers, 'access-control-expose-headers').map((h) => h.toLowerCase());
  if (answer.status === 401 && !exposed.includes('www-authenticate') && !exposed.includes('*'))
    return {
      ok: false,
      allows,
      problem:
        'its 401 does not expose WWW-Authenticate (Access-Control-Expose-Headers), so browser clients cannot read the challenge',
    };
  return { ok: true, allows };
}

interface TargetResult {
  readonly verdict: CorsVerdict;
  readonly urls: TriedUrl[];
}

async function ask(
  probe: Probe,
  method: 'GET' | 'POST' | 'OPTIONS',
  url: string,
  headers: Readonly<Record<string, string>>,
  judge: (answer: ProbeAnswer) => CorsVerdict,
  body?: string,
): Promise<TargetResult> {
  try {
    const answer = await probe({ method, url, headers: { origin: DOCTOR_ORIGIN, ...headers }, body });
    const verdict = judge(answer);
    return {
      verdict,
      urls: [triedAnswer(method, url, answer, verdict.problem ?? `allows ${verdict.allows}`)],
    };
  } catch (error) {
    if (!(error instanceof ProbeError)) throw error;
    return {
      verdict: { ok: false, allows: 'nothing', problem: error.message },
      urls: [triedFailure(method, url, error)],
    };
  }
}

function preflight(probe: Probe, target: CorsTarget): Promise<TargetResult> {
  return ask(
    probe,
    'OPTIONS',
    target.url,
    {
      'access-control-request-method': target.method,
      ...(target.headers.length > 0 && { 'access-control-request-headers': target.headers.join(', ') }),
    },
    (answer) => judgePreflight(answer, target),
  );
}

/** A GET target is readable when its plain GET is; the preflight is reported beside it. */
async function checkGetTarget(probe: Probe, target: CorsTarget): Promise<TargetResult> {
  const pre = await preflight(probe, target);
  const get = await ask(probe, 'GET', target.url, {}, judgeSimpleGet);
  const urls = [...pre.urls, ...get.urls];
  if (!get.verdict.ok) return { verdict: get.verdict, urls };
  if (!pre.verdict.ok)
    return {
      verdict: {
        ok: true,
        allows: `${get.verdict.allows} on a plain GET (its preflight fails: ${pre.verdict.problem})`,
      },
      urls,
    };
  return { verdict: get.verdict, urls };
}

export interface CorsInput {
  readonly targets: readonly CorsTarget[];
  /** The unauthenticated initialize, sent again with an Origin to see what a browser can read of the 401. */
  readonly mcpChallenge?: ProbeRequest;
}

export async function checkCors(probe: Probe, input: CorsInput): Promise<StepReport> {
  const failures: string[] = [];
  const warnings: string[] = [];
  const passes: string[] = [];
  const urls: TriedUrl[] = [];
  const record = (target: Pick<CorsTarget, 'name' | 'required'>, result: TargetResult) => {
    urls.push(...result.urls);
    const { verdict } = result;
    if (verdict.ok) passes.push(target.name);
    else (target.required ? failures : warnings).push(`${target.name}: ${verdict.problem}`);
  };
  for (const target of input.targets)
    record(
      target,
      target.method === 'GET' ? await checkGetTarget(probe, target) : await preflight(probe, target),
    );
  if (input.mcpChallenge) {
    const { method, url, headers = {}, body } = input.mcpChallenge;
    record(
      { name: 'MCP endpoint 401 answer', required: false },
      await ask(probe, method, url, headers, judgeChallengeExposure, body),
    );
  }
  const status: StepStatus = failures.length > 0 ? 'fail' : warnings.length > 0 ? 'warn' : 'pass';
  const detail = [
    ...failures.map((text) => `${text} (browser-based clients cannot start)`),
    ...warnings.map((text) => `${text} (browser-based clients that need it fail)`),
    ...(passes.length > 0 ? [`readable from another origin: ${passes.join(', ')}`] : []),
  ].join('; ');
  return { step: 'cors', status, detail, urls };
}
