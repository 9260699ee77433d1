// Step 5, registration: how an MCP client the authorization server has never seen gets a
// client_id. With a registration endpoint, the doctor registers a public client as MCP
// clients do (RFC 7591 §3.1: loopback redirect URI, authorization code + refresh token, no
// client authentication) and checks the answer (§3.2.1: 201, a client_id, and no secret for
// a public client). Client ID Metadata Documents need an https URL the doctor cannot host,
// so their support is reported, not tried.
import { type Probe, type ProbeAnswer, ProbeError } from './http-probe.ts';
import { answerProblem, quoted, type StepReport, triedAnswer, triedFailure } from './report.ts';

const DOCTOR_CLIENT_NAME = 'gatehouse mcp doctor';

function registrationRequest(redirectUri: string): Record<string, unknown> {
  return {
    client_name: DOCTOR_CLIENT_NAME,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
}

function parseObject(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The registration answer judged. Never quotes a secret it may carry. */
export function judgeRegistration(answer: Pick<ProbeAnswer, 'status' | 'body' | 'unfollowedRedirect'>): {
  status: 'pass' | 'warn' | 'fail';
  detail: string;
} {
  const body = parseObject(answer.body);
  if (answer.status < 200 || answer.status >= 300) {
    const error = body && typeof body.error === 'string' ? `: ${body.error}` : '';
    const description =
      body && typeof body.error_description === 'string' ? ` (${quoted(body.error_description)})` : '';
    return {
      status: 'fail',
      detail: `registering a public client ${answerProblem(answer)}${error}${description}`,
    };
  }
  if (!body)
    return { status: 'fail', detail: `registration answered ${answer.status} without a JSON object` };
  if (typeof body.client_id !== 'string' || body.client_id === '')
    return { status: 'fail', detail: `registration answered ${answer.status} without a client_id` };
  if (body.client_secret !== undefined)
    return {
      status: 'fail',
      detail: `registration answered a client_secret to a client asking for token_endpoint_auth_method none: the server made a confidential client, which an MCP client cannot keep secret`,
    };
  const method = body.token_endpoint_auth_method;
  if (method !== undefined && method !== 'none')
    return {
      status: 'fail',
      detail: `registered with token_endpoint_auth_method ${quoted(method)}, not none`,
    };
  const registered = `registered public client ${quoted(body.client_id)}`;
  if (answer.status !== 201)
    return {
      status: 'warn',
      detail: `${registered}, but answered ${answer.status}: RFC 7591 §3.2.1 says 201 Created (clients accept any 2xx)`,
    };
  return { status: 'pass', detail: `${registered} (201, no client_secret)` };
}

export interface RegistrationInput {
  readonly registrationEndpoint?: string;
  readonly clientIdMetadataDocumentSupported: boolean;
  /** A loopback redirect URI, as native MCP clients register (RFC 8252 §7.3). */
  readonly redirectUri: string;
}

const CIMD_NOTE =
  'Client ID Metadata Documents supported (client_id_metadata_document_supported): clients may use an https URL as client_id; the doctor cannot host such a document, so it does not try one';

export async function checkRegistration(probe: Probe, input: RegistrationInput): Promise<StepReport> {
  const cimd = input.clientIdMetadataDocumentSupported;
  if (!input.registrationEndpoint)
    return cimd
      ? { step: 'registration', status: 'pass', detail: `no registration_endpoint; ${CIMD_NOTE}` }
      : {
          step: 'registration',
          status: 'fail',
          detail:
            'no registration_endpoint and no client_id_metadata_document_supported: an MCP client the server does not know has no way to get a client_id',
        };
  const url = input.registrationEndpoint;
  const cimdNote = cimd ? `; ${CIMD_NOTE}` : '';
  try {
    const answer = await probe({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(registrationRequest(input.redirectUri)),
    });
    const { status, detail } = judgeRegistration(answer);
    return {
      step: 'registration',
      status,
      detail: `${detail} at ${url}${cimdNote}`,
      urls: [triedAnswer('POST', url, answer)],
    };
  } catch (error) {
    if (!(error instanceof ProbeError)) throw error;
    return {
      step: 'registration',
      status: 'fail',
      detail: `POST ${url}: ${error.message}${cimdNote}`,
      urls: [triedFailure('POST', url, error)],
    };
  }
}
