// /v1/me/grants (SPEC §4): the clients the caller authorized on the consent page, and
// revoking one, which ends every access and refresh token of it. The permission is the one
// for the caller's own sessions: both are the caller's own sign-ins. /v1/orgs/:org/oauth-clients:
// the same for an org admin, over every member.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireOrg } from '../tenancy/index.ts';
import type { Consents } from './consents.ts';

const ConsentSchema = Type.Object({
  client: Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
  resource: Type.String(),
  scopes: Type.Array(Type.String()),
  granted_at: Type.String(),
});
const ClientParams = Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 2048 }) });
const OrgClientParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 64 }),
  client_id: Type.String({ minLength: 1, maxLength: 2048 }),
});
const AuthorizedClientSchema = Type.Object({
  client: Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
  registration: Type.String(),
  redirect_uris: Type.Array(Type.String()),
  members: Type.Integer(),
  last_authorized_at: Type.String(),
});

export async function v1GrantRoutes(app: FastifyInstance, options: { consents: Consents }): Promise<void> {
  const { consents } = options;

  app.get(
    '/me/grants',
    {
      config: { permission: 'sessions:own' },
      schema: { response: { 200: Type.Object({ data: Type.Array(ConsentSchema) }) } },
    },
    async function listMyGrants(request) {
      const principal = request.auth!.principal;
      return { data: principal.kind === 'user' ? await consents.list(request.ctx, principal.id) : [] };
    },
  );

  // An admin's view of the clients the org's members authorized, and revoking one for all of
  // them: the permission that ends members' sessions ends their authorizations too.
  app.get(
    '/orgs/:org/oauth-clients',
    {
      config: { permission: 'sessions:all' },
      schema: { response: { 200: Type.Object({ data: Type.Array(AuthorizedClientSchema) }) } },
    },
    async function listAuthorizedClients(request) {
      const { org } = requireOrg(request.orgAccess);
      return { data: await consents.listInOrg(request.ctx, org.id) };
    },
  );

  app.delete<{ Params: Static<typeof OrgClientParams> }>(
    '/orgs/:org/oauth-clients/:client_id',
    {
      config: { permission: 'sessions:all' },
      schema: {
        params: OrgClientParams,
        response: { 200: Type.Object({ revoked_members: Type.Integer() }) },
      },
    },
    async function revokeAuthorizedClient(request) {
      const { org } = requireOrg(request.orgAccess);
      return { revoked_members: await consents.revokeInOrg(request.ctx, org.id, request.params.client_id) };
    },
  );

  app.delete<{ Params: Static<typeof ClientParams> }>(
    '/me/grants/:client_id',
    { config: { permission: 'sessions:own' }, schema: { params: ClientParams } },
    async function revokeMyGrant(request, reply) {
      await consents.revoke(request.ctx, request.auth!.principal.id, request.params.client_id);
      return reply.status(204).send();
    },
  );
}
