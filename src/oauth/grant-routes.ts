// /v1/me/grants (SPEC §4): the clients the caller authorized on the consent page, and
// revoking one, which ends every access and refresh token of it. The permission is the one
// for the caller's own sessions: both are the caller's own sign-ins.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Consents } from './consents.ts';

const ConsentSchema = Type.Object({
  client: Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
  resource: Type.String(),
  scopes: Type.Array(Type.String()),
  granted_at: Type.String(),
});
const ClientParams = Type.Object({ client_id: Type.String({ minLength: 1, maxLength: 2048 }) });

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

  app.delete<{ Params: Static<typeof ClientParams> }>(
    '/me/grants/:client_id',
    { config: { permission: 'sessions:own' }, schema: { params: ClientParams } },
    async function revokeMyGrant(request, reply) {
      await consents.revoke(request.ctx, request.auth!.principal.id, request.params.client_id);
      return reply.status(204).send();
    },
  );
}
