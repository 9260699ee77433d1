// /v1/orgs/:org/service-accounts/:service_account_id/oauth-clients: the confidential clients an
// admin makes for a service account (service-account-clients.ts). The secret is in the create
// answer only.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireOrg, type TenancyService } from '../tenancy/index.ts';
import type { ServiceAccountClients } from './service-account-clients.ts';

const OwnerParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 64 }),
  service_account_id: Type.String({ minLength: 1, maxLength: 64 }),
});
const ClientParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 64 }),
  service_account_id: Type.String({ minLength: 1, maxLength: 64 }),
  client_id: Type.String({ minLength: 1, maxLength: 64 }),
});
const CreateBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
const ClientSchema = Type.Object({
  client_id: Type.String(),
  name: Type.String(),
  service_account_id: Type.String(),
  created_by: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
});
const CreatedSchema = Type.Composite([
  ClientSchema,
  Type.Object({ client_secret: Type.String(), token_endpoint: Type.String() }),
]);

export interface ServiceAccountClientRouteOptions {
  readonly serviceAccountClients: ServiceAccountClients;
  readonly tenancy: TenancyService;
  /** Where the client asks for tokens, told in the create answer. */
  readonly tokenEndpoint: string;
}

export async function v1ServiceAccountClientRoutes(
  app: FastifyInstance,
  options: ServiceAccountClientRouteOptions,
): Promise<void> {
  const { serviceAccountClients, tenancy } = options;

  app.get<{ Params: Static<typeof OwnerParams> }>(
    '/orgs/:org/service-accounts/:service_account_id/oauth-clients',
    {
      config: { permission: 'service_accounts:read' },
      schema: { params: OwnerParams, response: { 200: Type.Object({ data: Type.Array(ClientSchema) }) } },
    },
    async function listServiceAccountClients(request) {
      const orgId = requireOrg(request.orgAccess).org.id;
      const account = await tenancy.getServiceAccount(request.ctx, orgId, request.params.service_account_id);
      return { data: await serviceAccountClients.list(request.ctx, orgId, account.id) };
    },
  );

  app.post<{ Params: Static<typeof OwnerParams>; Body: Static<typeof CreateBody> }>(
    '/orgs/:org/service-accounts/:service_account_id/oauth-clients',
    {
      config: { permission: 'service_accounts:write' },
      schema: { params: OwnerParams, body: CreateBody, response: { 201: CreatedSchema } },
    },
    async function createServiceAccountClient(request, reply) {
      const orgId = requireOrg(request.orgAccess).org.id;
      const account = await tenancy.getServiceAccount(request.ctx, orgId, request.params.service_account_id);
      const created = await serviceAccountClients.create(request.ctx, {
        orgId,
        serviceAccountId: account.id,
        name: request.body.name,
      });
      return reply.status(201).send({ ...created, token_endpoint: options.tokenEndpoint });
    },
  );

  app.delete<{ Params: Static<typeof ClientParams> }>(
    '/orgs/:org/service-accounts/:service_account_id/oauth-clients/:client_id',
    { config: { permission: 'service_accounts:write' }, schema: { params: ClientParams } },
    async function deleteServiceAccountClient(request, reply) {
      const orgId = requireOrg(request.orgAccess).org.id;
      const { service_account_id, client_id } = request.params;
      await serviceAccountClients.remove(request.ctx, orgId, service_account_id, client_id);
      return reply.status(204).send();
    },
  );
}
