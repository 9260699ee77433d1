// Runs the doctor's steps in the order an MCP client meets them. A step that needs another
// runs only when that one passed or warned; otherwise it is reported as skipped, naming the
// step it needs, so the first failure is the one to fix.
import { type AuthorizationServerMetadata, checkAuthorizationServer } from './authorization-server.ts';
import { checkChallenge } from './challenge.ts';
import { type CorsTarget, checkCors } from './cors.ts';
import type { Probe } from './http-probe.ts';
import { initializeRequest } from './initialize.ts';
import { checkRegistration } from './registration.ts';
import type { DoctorReport, StepName, StepReport } from './report.ts';
import { checkResourceMetadata, type ResourceMetadata } from './resource-metadata.ts';
import { canonicalResourceUrl } from './resource-url.ts';
import { checkTokenAudience, TOKEN_HINT } from './token-audience.ts';

export interface DoctorOptions {
  readonly serverUrl: URL;
  /** An access token to check in the last step; the step is skipped without one. */
  readonly token?: string;
  readonly probe: Probe;
  /** The loopback redirect URI the registration step registers. */
  readonly redirectUri: string;
  readonly now: () => Date;
}

function skipped(step: StepName, needs: StepName): StepReport {
  return { step, status: 'skip', detail: `skipped: needs ${needs}` };
}

const proceeds = (report: StepReport) => report.status === 'pass' || report.status === 'warn';

/** What a browser-based client calls: the metadata documents (required), then the endpoints. */
function corsTargets(
  serverUrl: URL,
  resource: ResourceMetadata,
  authorizationServer: AuthorizationServerMetadata,
): CorsTarget[] {
  const { registrationEndpoint } = authorizationServer;
  const get = { method: 'GET', headers: [], required: true } as const;
  const post = { method: 'POST', required: false } as const;
  return [
    { name: 'protected-resource metadata', url: resource.url, ...get },
    { name: 'authorization-server metadata', url: authorizationServer.url, ...get },
    // A public client's token request is a form POST: only the method is asked about.
    { name: 'token endpoint', url: authorizationServer.tokenEndpoint, ...post, headers: [] },
    ...(registrationEndpoint
      ? [{ name: 'registration endpoint', url: registrationEndpoint, ...post, headers: ['content-type'] }]
      : []),
    {
      name: 'MCP endpoint',
      url: serverUrl.href,
      ...post,
      headers: ['authorization', 'content-type', 'mcp-protocol-version'],
    },
  ];
}

export async function runMcpDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { probe, serverUrl } = options;
  const steps: StepReport[] = [];

  const challenge = await checkChallenge(probe, serverUrl);
  steps.push(challenge.report);

  let resource: ResourceMetadata | undefined;
  if (proceeds(challenge.report)) {
    const outcome = await checkResourceMetadata(probe, serverUrl, challenge.resourceMetadataUrl);
    steps.push(outcome.report);
    if (proceeds(outcome.report)) resource = outcome.metadata;
  } else steps.push(skipped('resource-metadata', 'challenge'));

  let authorizationServer: AuthorizationServerMetadata | undefined;
  if (resource) {
    const outcome = await checkAuthorizationServer(probe, resource.authorizationServer);
    steps.push(outcome.report);
    if (proceeds(outcome.report)) authorizationServer = outcome.metadata;
  } else steps.push(skipped('auth-server-metadata', 'resource-metadata'));

  if (resource && authorizationServer) {
    steps.push(
      await checkCors(probe, {
        targets: corsTargets(serverUrl, resource, authorizationServer),
        mcpChallenge: initializeRequest(serverUrl),
      }),
    );
    steps.push(
      await checkRegistration(probe, {
        registrationEndpoint: authorizationServer.registrationEndpoint,
        clientIdMetadataDocumentSupported: authorizationServer.clientIdMetadataDocumentSupported,
        redirectUri: options.redirectUri,
      }),
    );
  } else {
    steps.push(skipped('cors', 'auth-server-metadata'), skipped('registration', 'auth-server-metadata'));
  }

  if (options.token === undefined) steps.push({ step: 'token-audience', status: 'skip', detail: TOKEN_HINT });
  else if (!authorizationServer) steps.push(skipped('token-audience', 'auth-server-metadata'));
  else
    steps.push(
      await checkTokenAudience(probe, {
        token: options.token,
        serverUrl,
        resource: canonicalResourceUrl(serverUrl),
        issuer: authorizationServer.issuer,
        jwksUri: authorizationServer.jwksUri,
        now: options.now(),
      }),
    );

  return { url: serverUrl.href, steps, ok: !steps.some((step) => step.status === 'fail') };
}
