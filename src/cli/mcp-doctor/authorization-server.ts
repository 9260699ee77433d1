// Step 3, authorization-server metadata: the first authorization server's RFC 8414 / OpenID
// Connect Discovery document, looked for where MCP clients look (resource-url.ts has the
// order), then what those clients need of it: `issuer` identical to the identifier the
// document was found from (RFC 8414 §3.3, a mix-up defence), PKCE with S256 (the MCP spec:
// without `code_challenge_methods_supported` clients must refuse), the authorization and
// token endpoints, and the `code` response type. How a client can identify itself
// (registration, Client ID Metadata Documents) is noted here and tried in step 5.
import { lookUpDocument, parseJson } from './discovery.ts';
import type { Probe, ProbeAnswer } from './http-probe.ts';
import { quoted, redirectNote, type StepReport, type TriedUrl } from './report.ts';
import { authorizationServerMetadataUrls, httpUrl } from './resource-url.ts';

export interface AuthorizationServerMetadata {
  /** The URL that answered with the document. */
  readonly url: string;
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly registrationEndpoint?: string;
  readonly clientIdMetadataDocumentSupported: boolean;
  readonly jwksUri?: string;
}

export interface AuthorizationServerOutcome {
  readonly report: StepReport;
  readonly metadata?: AuthorizationServerMetadata;
}

function includes(list: unknown, value: string): boolean {
  return Array.isArray(list) && list.includes(value);
}

/** The document judged against the issuer it was looked up for: what fails the step, and what is noted. */
export function judgeAuthorizationServerMetadata(
  document: unknown,
  issuer: string,
): { problems: string[]; notes: string[]; metadata?: Omit<AuthorizationServerMetadata, 'url'> } {
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    return { problems: ['the answer is not a JSON object'], notes: [] };
  const fields = document as Record<string, unknown>;
  const problems: string[] = [];
  if (fields.issuer !== issuer)
    problems.push(
      `issuer ${quoted(fields.issuer)} is not ${quoted(issuer)}, the authorization server the resource names: RFC 8414 §3.3 wants them identical, and clients refuse the document`,
    );
  const methods = fields.code_challenge_methods_supported;
  if (methods === undefined)
    problems.push('code_challenge_methods_supported is missing: MCP clients must then refuse (no PKCE)');
  else if (!includes(methods, 'S256'))
    problems.push(
      `code_challenge_methods_supported ${quoted(methods)} lacks S256, the PKCE method MCP clients use`,
    );
  for (const endpoint of ['authorization_endpoint', 'token_endpoint'] as const)
    if (!httpUrl(fields[endpoint])) problems.push(`${endpoint} is missing or not an absolute http(s) URL`);
  if (!includes(fields.response_types_supported, 'code'))
    problems.push(`response_types_supported ${quoted(fields.response_types_supported)} lacks code`);
  const registrationEndpoint = httpUrl(fields.registration_endpoint)?.href;
  const jwksUri = httpUrl(fields.jwks_uri)?.href;
  const cimd = fields.client_id_metadata_document_supported === true;
  const notes = [
    registrationEndpoint ? `registration_endpoint ${registrationEndpoint}` : 'no registration_endpoint',
    cimd ? 'Client ID Metadata Documents supported' : 'client_id_metadata_document_supported not advertised',
  ];
  if (problems.length > 0) return { problems, notes };
  return {
    problems,
    notes,
    metadata: {
      issuer,
      // Checked above: a document without one has a problem and no metadata.
      tokenEndpoint: httpUrl(fields.token_endpoint)!.href,
      ...(registrationEndpoint && { registrationEndpoint }),
      clientIdMetadataDocumentSupported: cimd,
      ...(jwksUri && { jwksUri }),
    },
  };
}

/** The step's outcome from the first document found; `misses` are the locations tried before it. */
function judgeAnswer(
  url: string,
  answer: ProbeAnswer,
  issuer: string,
  tried: { misses: readonly string[]; urls: TriedUrl[] },
): AuthorizationServerOutcome {
  const document = parseJson(answer.body);
  const judged =
    document === undefined
      ? { problems: ['the answer is not JSON'], notes: [] }
      : judgeAuthorizationServerMetadata(document, issuer);
  const after = tried.misses.length > 0 ? ` (after ${tried.misses.join(', ')})` : '';
  const where = `${url}${redirectNote(answer)}${after}`;
  if (!judged.metadata)
    return {
      report: {
        step: 'auth-server-metadata',
        status: 'fail',
        detail: `${where}: ${[...judged.problems, ...judged.notes].join('; ')}`,
        urls: tried.urls,
      },
    };
  return {
    report: {
      step: 'auth-server-metadata',
      status: 'pass',
      detail: `${where}: issuer matches, PKCE S256, response type code; ${judged.notes.join('; ')}`,
      urls: tried.urls,
    },
    metadata: { url: answer.url, ...judged.metadata },
  };
}

/** `issuer` is the authorization server as the resource metadata names it (an absolute http(s) URL). */
export async function checkAuthorizationServer(
  probe: Probe,
  issuer: string,
): Promise<AuthorizationServerOutcome> {
  const locations = authorizationServerMetadataUrls(new URL(issuer)).map(({ url }) => url);
  const { found, urls, misses } = await lookUpDocument(probe, locations);
  if (found) return judgeAnswer(found.location, found.answer, issuer, { misses, urls });
  return {
    report: {
      step: 'auth-server-metadata',
      status: 'fail',
      detail: `no metadata for authorization server ${issuer}: ${misses.join('; ')}`,
      urls,
    },
  };
}
