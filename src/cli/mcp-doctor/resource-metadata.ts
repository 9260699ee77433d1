// Step 2, protected-resource metadata (RFC 9728): the document the challenge names, or,
// when it names none, the path-inserted and then the root well-known location, as the SDK
// tries them. The document must name the server's canonical resource identifier exactly
// (RFC 9728 §3.3; a trailing slash breaks the SDK's own check) and an authorization server.
import { lookUpDocument, parseJson } from './discovery.ts';
import type { Probe, ProbeAnswer } from './http-probe.ts';
import { quoted, redirectNote, type StepReport, type TriedUrl } from './report.ts';
import { canonicalResourceUrl, compareResource, httpUrl, resourceMetadataFallbacks } from './resource-url.ts';

export interface ResourceMetadata {
  /** The URL that answered with the document. */
  readonly url: string;
  readonly resource: string;
  /** The first of `authorization_servers` (the one clients use), as written: it is the issuer. */
  readonly authorizationServer: string;
}

export interface ResourceMetadataOutcome {
  readonly report: StepReport;
  readonly metadata?: ResourceMetadata;
}

/** Why the `resource` a document names is not the server's, or undefined when it is. */
export function resourceProblem(advertised: unknown, canonical: string): string | undefined {
  if (typeof advertised !== 'string') return 'it names no resource (RFC 9728 §2: `resource` is required)';
  const comparison = compareResource(advertised, canonical);
  switch (comparison.kind) {
    case 'same':
      return undefined;
    case 'trailing-slash':
      return `resource ${quoted(advertised)} has a trailing slash the server URL does not (${canonical}): clients compare them and refuse the document (the SDK's checkResourceAllowed does), and tokens would be bound to another audience`;
    case 'not-canonical':
      return `resource ${quoted(advertised)} is the server's URL written differently; RFC 9728 §3.3 wants it identical to ${canonical}`;
    case 'parent':
      return `resource ${quoted(advertised)} is a parent of the server URL, not ${canonical}: the SDK accepts it, but tokens are then bound to ${quoted(advertised)}, and clients that compare exactly refuse the document`;
    case 'different':
      return `resource ${quoted(advertised)} is not this server (${canonical}): clients refuse the document`;
    case 'invalid':
      return `resource ${quoted(advertised)} is not an absolute http(s) URL`;
  }
}

/** The document judged: problems that fail the step, and the authorization server clients use. */
export function judgeResourceMetadata(
  document: unknown,
  canonical: string,
): { problems: string[]; resource?: string; authorizationServer?: string } {
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    return { problems: ['the answer is not a JSON object'] };
  const { resource, authorization_servers: servers } = document as Record<string, unknown>;
  const problems: string[] = [];
  const resourceIssue = resourceProblem(resource, canonical);
  if (resourceIssue) problems.push(resourceIssue);
  let authorizationServer: string | undefined;
  if (!Array.isArray(servers) || servers.length === 0)
    problems.push('authorization_servers is missing or empty: clients cannot tell where to get a token');
  else if (httpUrl(servers[0])) authorizationServer = servers[0] as string;
  else problems.push(`authorization_servers[0] ${quoted(servers[0])} is not an absolute http(s) URL`);
  return {
    problems,
    ...(typeof resource === 'string' && { resource }),
    ...(authorizationServer && { authorizationServer }),
  };
}

function isJsonMediaType(contentType: string | null): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || type.endsWith('+json');
}

interface Candidate {
  readonly url: string;
  /** How the document was found, for the report. */
  readonly how: string;
}

function judgeDocument(
  candidate: Candidate,
  answer: ProbeAnswer,
  canonical: string,
  urls: TriedUrl[],
): ResourceMetadataOutcome {
  const document = parseJson(answer.body);
  const judged =
    document === undefined
      ? { problems: ['the answer is not JSON'] }
      : judgeResourceMetadata(document, canonical);
  const where = `${candidate.url} (${candidate.how})${redirectNote(answer)}`;
  if (judged.problems.length > 0 || !judged.authorizationServer || judged.resource === undefined)
    return {
      report: {
        step: 'resource-metadata',
        status: 'fail',
        detail: `${where}: ${judged.problems.join('; ')}`,
        urls,
      },
    };
  const typeNote = isJsonMediaType(answer.headers.get('content-type'))
    ? ''
    : `; served as ${quoted(answer.headers.get('content-type') ?? 'no content type')}, not application/json`;
  return {
    report: {
      step: 'resource-metadata',
      status: typeNote === '' ? 'pass' : 'warn',
      detail: `${where}: resource ${judged.resource}, authorization server ${judged.authorizationServer}${typeNote}`,
      urls,
    },
    metadata: { url: answer.url, resource: judged.resource, authorizationServer: judged.authorizationServer },
  };
}

export async function checkResourceMetadata(
  probe: Probe,
  serverUrl: URL,
  named: URL | undefined,
): Promise<ResourceMetadataOutcome> {
  const canonical = canonicalResourceUrl(serverUrl);
  const candidates: Candidate[] = named
    ? [{ url: named.href, how: 'named by the challenge' }]
    : resourceMetadataFallbacks(serverUrl).map(({ url, source }) => ({
        url,
        how: `${source} fallback: the challenge names no document`,
      }));
  const { found, urls, misses } = await lookUpDocument(
    probe,
    candidates.map((candidate) => candidate.url),
  );
  if (found) {
    const candidate = candidates.find((c) => c.url === found.location)!;
    return judgeDocument(candidate, found.answer, canonical, urls);
  }
  const fallbackNote = named ? '; clients do not look elsewhere when the challenge names a document' : '';
  return {
    report: {
      step: 'resource-metadata',
      status: 'fail',
      detail: `no protected-resource metadata: ${misses.join('; ')}${fallbackNote}`,
      urls,
    },
  };
}
