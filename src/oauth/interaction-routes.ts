// Sign-in and consent for the authorization server (SPEC §4), on the browser surface. The
// library sends the browser to /oauth/interaction/<uid> whenever it needs the user:
// - to sign in: through Gatehouse's own /login (password or the org's SSO), which returns
//   here; the signed-in Gatehouse user becomes the library's account;
// - to consent: a page naming the client, where it redirects (with a warning for this
//   machine) and the scopes for the resource. Approving creates a grant holding exactly what
//   was asked for that one resource, recorded per user and client (consents.ts).
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { GatehouseError } from '../core/errors.ts';
import type { TenancyService } from '../tenancy/index.ts';
import { renderConsentPage, renderContinueToClientPage } from '../web/index.ts';
import type { Consents } from './consents.ts';
import { oauthErrors } from './errors.ts';
import { type Interaction, interactionOf } from './interactions.ts';
import { INTERACTION_PATH, RESOURCE_SCOPES } from './provider.ts';
import { LOOPBACK_HOSTS } from './registration-policy.ts';

export interface InteractionRouteOptions {
  readonly provider: () => Provider;
  readonly consents: Consents;
  readonly tenancy: TenancyService;
}

const Params = Type.Object({ uid: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\w-]+$' }) });
const DecisionBody = Type.Object({
  csrf_token: Type.String(),
  decision: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
});

const OIDC_SCOPES = new Set(['openid', 'offline_access']);
const KNOWN_SCOPES = new Set(RESOURCE_SCOPES);

function page(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(body);
}

/** The signed-in Gatehouse user of this browser (the session cookie), if any. */
function browserUser(request: FastifyRequest): string | undefined {
  const auth = request.auth;
  return auth?.transport === 'cookie' && auth.principal.kind === 'user' ? auth.principal.id : undefined;
}

/** What the client asked for: one resource, and the scopes for it that this server knows. */
function requested(interaction: Interaction) {
  const params = interaction.params as Record<string, unknown>;
  const asked = typeof params.scope === 'string' ? params.scope.split(' ').filter(Boolean) : [];
  const resource = typeof params.resource === 'string' ? params.resource : undefined;
  return {
    clientId: String(params.client_id),
    // None in the device flow: the device polls for its token.
    redirectUri: typeof params.redirect_uri === 'string' ? params.redirect_uri : undefined,
    resource,
    scopes: asked.filter((scope) => KNOWN_SCOPES.has(scope)),
    oidcScopes: asked.filter((scope) => OIDC_SCOPES.has(scope)),
  };
}

export async function interactionRoutes(
  app: FastifyInstance,
  options: InteractionRouteOptions,
): Promise<void> {
  const { consents, tenancy } = options;
  const location = (uid: string) => `${INTERACTION_PATH}/${uid}`;

  app.get<{ Params: Static<typeof Params> }>(
    `${INTERACTION_PATH}/:uid`,
    { config: { permission: 'public' }, schema: { params: Params } },
    async function showInteraction(request, reply) {
      const provider = options.provider();
      const interaction = await interactionOf(provider, request.raw, reply.raw, request.params.uid);
      const userId = browserUser(request);
      if (!userId)
        return reply.redirect(`/login?return_to=${encodeURIComponent(location(interaction.uid))}`, 303);
      if (interaction.prompt.name === 'login' || interaction.session?.accountId !== userId) {
        const next = await provider.interactionResult(
          request.raw,
          reply.raw,
          { login: { accountId: userId } },
          { mergeWithLastSubmission: false },
        );
        return page(reply, 200, renderContinueToClientPage(next));
      }
      const asked = requested(interaction);
      if (asked.resource === undefined) {
        const next = await provider.interactionResult(request.raw, reply.raw, {
          error: 'invalid_target',
          error_description: 'name the resource to authorize with the resource parameter (RFC 8707)',
        });
        return reply.redirect(next, 303);
      }
      const client = await provider.Client.find(asked.clientId);
      const user = await tenancy.getUser(request.ctx, userId);
      const redirect = asked.redirectUri === undefined ? undefined : new URL(asked.redirectUri);
      if (redirect) {
        // The decision's redirects end at the client: the form may lead there (CSP form-action).
        const csp = String(reply.getHeader('content-security-policy') ?? '');
        reply.header(
          'content-security-policy',
          csp.replace("form-action 'self'", `form-action 'self' ${redirect.origin}`),
        );
      }
      return page(
        reply,
        200,
        renderConsentPage({
          csrfToken: request.csrfToken ?? '',
          action: location(interaction.uid),
          clientName: client?.clientName ?? asked.clientId,
          clientId: asked.clientId,
          redirectHost: redirect?.host,
          redirectIsLocal: redirect !== undefined && LOOPBACK_HOSTS.has(redirect.hostname),
          userEmail: user?.email ?? userId,
          resource: asked.resource,
          scopes: asked.scopes,
        }),
      );
    },
  );

  app.post<{ Params: Static<typeof Params>; Body: Static<typeof DecisionBody> }>(
    `${INTERACTION_PATH}/:uid`,
    { config: { permission: 'public' }, schema: { params: Params, body: DecisionBody } },
    async function decideInteraction(request, reply) {
      const provider = options.provider();
      const interaction = await interactionOf(provider, request.raw, reply.raw, request.params.uid);
      const userId = browserUser(request);
      if (!userId)
        return reply.redirect(`/login?return_to=${encodeURIComponent(location(interaction.uid))}`, 303);
      if (interaction.prompt.name !== 'consent' || interaction.session?.accountId !== userId)
        throw new GatehouseError(oauthErrors.interactionWrongUser);
      const asked = requested(interaction);
      if (request.body.decision === 'deny' || asked.resource === undefined) {
        const next = await provider.interactionResult(request.raw, reply.raw, {
          error: 'access_denied',
          error_description: 'the user declined to authorize the client',
        });
        return reply.redirect(next, 303);
      }
      // A new grant with exactly what was asked for this resource: tokens issued under it,
      // and every refresh of them, stay bound to it (useGrantedResource in provider.ts).
      const grant = new provider.Grant({ accountId: userId, clientId: asked.clientId });
      // The permission names are also the server's OpenID scopes (so its metadata lists them):
      // the library wants them granted on both sides.
      const allScopes = [...asked.oidcScopes, ...asked.scopes];
      if (allScopes.length > 0) grant.addOIDCScope(allScopes.join(' '));
      grant.addResourceScope(asked.resource, asked.scopes.join(' '));
      const grantId = await grant.save();
      await consents.record(request.ctx, {
        grantId,
        userId,
        clientId: asked.clientId,
        resource: asked.resource,
        scopes: asked.scopes,
      });
      const next = await provider.interactionResult(
        request.raw,
        reply.raw,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
      return reply.redirect(next, 303);
    },
  );
}
