// Step 1, challenge: an unauthenticated `initialize` must be refused with 401 and a Bearer
// challenge naming the resource's metadata document (RFC 6750 §3, RFC 9728 §5.1), which is
// how an MCP client holding nothing finds the authorization server.
import { type Probe, type ProbeAnswer, ProbeError } from './http-probe.ts';
import { initializeRequest } from './initialize.ts';
import { answerProblem, redirectNote, type StepReport, triedAnswer, triedFailure } from './report.ts';
import { httpUrl } from './resource-url.ts';
import { isScheme, parseWwwAuthenticate, WwwAuthenticateSyntaxError } from './www-authenticate.ts';

export interface ChallengeOutcome {
  readonly report: StepReport;
  /** The document the challenge names, when it names a usable one. */
  readonly resourceMetadataUrl?: URL;
}

/** A 401's WWW-Authenticate, judged: the step's status and detail, and the document it names. */
export interface ChallengeJudgement {
  readonly status: 'pass' | 'warn' | 'fail';
  readonly detail: string;
  readonly resourceMetadataUrl?: URL;
}

export function judgeChallenge(header: string | null): ChallengeJudgement {
  if (header === null)
    return {
      status: 'fail',
      detail: '401 without WWW-Authenticate (RFC 9110 §15.5.2 requires one; RFC 6750 §3 a Bearer challenge)',
    };
  let bearer: ReturnType<typeof parseWwwAuthenticate>[number] | undefined;
  let schemes: string[];
  try {
    const challenges = parseWwwAuthenticate(header);
    bearer = challenges.find((challenge) => isScheme(challenge, 'Bearer'));
    schemes = challenges.map((challenge) => challenge.scheme);
  } catch (error) {
    if (!(error instanceof WwwAuthenticateSyntaxError)) throw error;
    return { status: 'fail', detail: `401 with a WWW-Authenticate clients cannot parse: ${error.message}` };
  }
  if (!bearer)
    return {
      status: 'fail',
      detail: `401 challenging with ${schemes.join(', ') || 'nothing'}, not Bearer (RFC 6750 §3)`,
    };
  const named = bearer.params.get('resource_metadata');
  const scope = bearer.params.get('scope');
  const scopeNote = scope === undefined ? '' : `, scope="${scope}"`;
  if (named === undefined)
    return {
      status: 'warn',
      detail: `401 Bearer challenge without resource_metadata (RFC 9728 §5.1)${scopeNote}; clients fall back to the well-known locations`,
    };
  const url = httpUrl(named);
  if (!url)
    return {
      status: 'fail',
      detail: `401 with resource_metadata=${JSON.stringify(named)}, which is not an absolute http(s) URL`,
    };
  return {
    status: 'pass',
    detail: `401 with resource_metadata=${url.href}${scopeNote}`,
    resourceMetadataUrl: url,
  };
}

function judgeAnswer(answer: ProbeAnswer): ChallengeJudgement {
  if (answer.status === 401) return judgeChallenge(answer.headers.get('www-authenticate'));
  if (answer.status >= 200 && answer.status < 300)
    return {
      status: 'fail',
      detail: `answered ${answer.status} to an unauthenticated initialize: the server asks for no authorization, so clients never look for its authorization server`,
    };
  return { status: 'fail', detail: `${answerProblem(answer)} to an unauthenticated initialize, not 401` };
}

export async function checkChallenge(probe: Probe, serverUrl: URL): Promise<ChallengeOutcome> {
  const request = initializeRequest(serverUrl);
  let answer: ProbeAnswer;
  try {
    answer = await probe(request);
  } catch (error) {
    if (!(error instanceof ProbeError)) throw error;
    return {
      report: {
        step: 'challenge',
        status: 'fail',
        detail: `POST ${serverUrl.href}: ${error.message}`,
        urls: [triedFailure('POST', request.url, error)],
      },
    };
  }
  const { status, detail, resourceMetadataUrl } = judgeAnswer(answer);
  return {
    report: {
      step: 'challenge',
      status,
      detail: `${detail}${redirectNote(answer)}`,
      urls: [triedAnswer('POST', request.url, answer)],
    },
    ...(resourceMetadataUrl && { resourceMetadataUrl }),
  };
}
