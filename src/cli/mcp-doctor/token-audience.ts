// Step 6, token audience (optional): an access token the user obtained must be bound to
// this server (RFC 8707: `aud` holds the canonical resource) by this authorization server
// (`iss` is its issuer), and the server must accept it for `initialize`. The token is
// decoded, and its signature checked against the authorization server's `jwks_uri` when
// it advertises one; only its claims are ever printed, never the token.
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import { type Probe, ProbeError } from './http-probe.ts';
import { initializeRequest, serverNameOf } from './initialize.ts';
import {
  answerProblem,
  quoted,
  type StepReport,
  type TriedUrl,
  triedAnswer,
  triedFailure,
} from './report.ts';
import { isScheme, parseWwwAuthenticate, WwwAuthenticateSyntaxError } from './www-authenticate.ts';

/** The skip line without --token: how to give one. */
export const TOKEN_HINT =
  'no --token given: pass --token TOKEN (or --token - to read it from stdin), an access token issued for this server (e.g. from `gatehouse auth token`), to check its aud and iss and call initialize with it';

/** Clock difference tolerated on exp and nbf, as resource servers commonly allow. */
const CLOCK_TOLERANCE_SECONDS = 30;

function audiences(claims: JWTPayload): string[] {
  if (typeof claims.aud === 'string') return [claims.aud];
  return Array.isArray(claims.aud) ? claims.aud.filter((aud): aud is string => typeof aud === 'string') : [];
}

/** What the claims say, in words: what a person checks first. */
function describeClaims(claims: JWTPayload, now: Date): string {
  const parts = [`aud ${quoted(claims.aud ?? null)}`, `iss ${quoted(claims.iss ?? null)}`];
  if (claims.sub !== undefined) parts.push(`sub ${quoted(claims.sub)}`);
  if (typeof claims.scope === 'string') parts.push(`scope ${quoted(claims.scope)}`);
  if (typeof claims.exp === 'number') {
    const seconds = Math.round(claims.exp - now.getTime() / 1000);
    parts.push(
      seconds >= 0
        ? `expires in ${Math.ceil(seconds / 60)} min`
        : `expired ${Math.ceil(-seconds / 60)} min ago`,
    );
  }
  return parts.join(', ');
}

/** Problems with the claims for this resource and issuer; empty when they fit. */
export function judgeTokenClaims(
  claims: JWTPayload,
  expected: { resource: string; issuer: string; now: Date },
): string[] {
  const problems: string[] = [];
  if (!audiences(claims).includes(expected.resource))
    problems.push(
      `aud ${quoted(claims.aud ?? null)} does not name this server's resource ${expected.resource} (RFC 8707)`,
    );
  if (claims.iss !== expected.issuer)
    problems.push(
      `iss ${quoted(claims.iss ?? null)} is not the authorization server's issuer ${expected.issuer}`,
    );
  const nowSeconds = expected.now.getTime() / 1000;
  if (typeof claims.exp === 'number' && claims.exp + CLOCK_TOLERANCE_SECONDS < nowSeconds)
    problems.push('the token has expired');
  if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_TOLERANCE_SECONDS > nowSeconds)
    problems.push('the token is not valid yet (nbf)');
  return problems;
}

export interface TokenAudienceInput {
  readonly token: string;
  readonly serverUrl: URL;
  /** The server's canonical resource identifier. */
  readonly resource: string;
  readonly issuer: string;
  readonly jwksUri?: string;
  readonly now: Date;
}

/** Checks the signature against the published keys: a note when it holds, a problem when not. */
async function checkSignature(
  probe: Probe,
  token: string,
  { jwksUri, now }: { jwksUri: string; now: Date },
  urls: TriedUrl[],
): Promise<{ note?: string; problem?: string }> {
  let keys: unknown;
  try {
    const answer = await probe({ method: 'GET', url: jwksUri, headers: { accept: 'application/json' } });
    urls.push(triedAnswer('GET', jwksUri, answer));
    if (answer.status !== 200) return { problem: `jwks_uri ${jwksUri} ${answerProblem(answer)}` };
    keys = JSON.parse(answer.body);
  } catch (error) {
    if (error instanceof ProbeError) {
      urls.push(triedFailure('GET', jwksUri, error));
      return { problem: `jwks_uri ${jwksUri}: ${error.message}` };
    }
    if (error instanceof SyntaxError) return { problem: `jwks_uri ${jwksUri} did not answer JSON` };
    throw error;
  }
  try {
    const verified = await jwtVerify(
      token,
      createLocalJWKSet(keys as Parameters<typeof createLocalJWKSet>[0]),
      {
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: now,
      },
    );
    return {
      note: `signature verified against jwks_uri (${verified.protectedHeader.alg}, kid ${quoted(verified.protectedHeader.kid ?? null)})`,
    };
  } catch (error) {
    // Expiry is reported from the claims already; everything else about the signature is news.
    if (error instanceof errors.JWTExpired) return {};
    if (error instanceof errors.JOSEError)
      return { problem: `the signature does not verify against jwks_uri: ${error.message}` };
    if (error instanceof TypeError) return { problem: `jwks_uri ${jwksUri} is not a JWK set` };
    throw error;
  }
}

/**
 * The error and error_description of a refusal's Bearer challenge (RFC 6750 §3), with the
 * token cut out: servers do quote back what they were sent, and a quoted value may be
 * shortened for printing, after which no later redaction would find the whole token.
 */
function refusalReason(header: string | null, token: string): string {
  if (header === null) return '';
  const scrub = (text: string) => text.split(token).join('[token]');
  try {
    const bearer = parseWwwAuthenticate(header).find((challenge) => isScheme(challenge, 'Bearer'));
    const error = bearer?.params.get('error');
    if (error === undefined) return '';
    const description = bearer?.params.get('error_description');
    return `: error ${quoted(scrub(error))}${description === undefined ? '' : ` ${quoted(scrub(description))}`}`;
  } catch (error) {
    // An unparseable challenge is the challenge step's finding; the status says enough here.
    if (error instanceof WwwAuthenticateSyntaxError) return '';
    throw error;
  }
}

/** Calls initialize with the token: the server must accept it. */
async function initializeWithToken(
  probe: Probe,
  serverUrl: URL,
  token: string,
  urls: TriedUrl[],
): Promise<{ note?: string; problem?: string }> {
  const request = initializeRequest(serverUrl, token);
  try {
    const answer = await probe(request);
    urls.push(triedAnswer('POST', request.url, answer));
    if (answer.status === 200) {
      const name = serverNameOf(answer.body);
      return {
        note: `initialize with it answered 200${name === undefined ? '' : ` (server ${quoted(name)})`}`,
      };
    }
    const reason = refusalReason(answer.headers.get('www-authenticate'), token);
    return { problem: `initialize with the token ${answerProblem(answer)}, not 200${reason}` };
  } catch (error) {
    if (!(error instanceof ProbeError)) throw error;
    urls.push(triedFailure('POST', request.url, error));
    return { problem: `initialize with the token: ${error.message}` };
  }
}

export async function checkTokenAudience(probe: Probe, input: TokenAudienceInput): Promise<StepReport> {
  const { token } = input;
  const urls: TriedUrl[] = [];
  let claims: JWTPayload | undefined;
  try {
    decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    claims = undefined;
  }
  if (!claims) {
    // An opaque token may be fine, but only introspection (with client credentials) could read its aud.
    const call = await initializeWithToken(probe, input.serverUrl, token, urls);
    return {
      step: 'token-audience',
      status: call.problem ? 'fail' : 'warn',
      detail: `the token is not a JWT, so its aud and iss cannot be read; ${call.problem ?? call.note}`,
      urls,
    };
  }
  const problems = judgeTokenClaims(claims, input);
  const notes: string[] = [];
  if (input.jwksUri) {
    const signature = await checkSignature(probe, token, { jwksUri: input.jwksUri, now: input.now }, urls);
    if (signature.problem) problems.push(signature.problem);
    if (signature.note) notes.push(signature.note);
  } else notes.push('no jwks_uri advertised: signature not checked');
  const call = await initializeWithToken(probe, input.serverUrl, token, urls);
  if (call.problem) problems.push(call.problem);
  if (call.note) notes.push(call.note);
  const summary = describeClaims(claims, input.now);
  return {
    step: 'token-audience',
    status: problems.length > 0 ? 'fail' : 'pass',
    detail: problems.length > 0 ? `${problems.join('; ')} (${summary})` : `${summary}; ${notes.join('; ')}`,
    urls,
  };
}
