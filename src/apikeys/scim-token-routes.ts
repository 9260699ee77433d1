// /v1/orgs/:org/scim-tokens (SPEC §5): an org's admin makes, lists and revokes the tokens its
// identity provider provisions with. The secret is in the create answer only, once.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { requireOrg } from '../tenancy/index.ts';
import type { ScimTokensService } from './scim-tokens.ts';

export interface ScimTokenRouteOptions {
  readonly scimTokens: ScimTokensService;
}

const ORG = Type.String({ minLength: 1, maxLength: 64 });
const OrgParams = Type.Object({ org: ORG });
const TokenParams = Type.Object({ org: ORG, scim_token_id: Type.String({ pattern: '^sct_[0-9a-z]{26}$' }) });
const ScimTokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  created_at: Type.String(),
  created_by: Type.Union([Type.String(), Type.Null()]),
  expires_at: Type.Union([Type.String(), Type.Null()]),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
});
const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object({ include_revoked: Type.Boolean({ default: false }) });

export const v1ScimTokenRoutes: FastifyPluginAsync<ScimTokenRouteOptions> = async (app, { scimTokens }) => {
  app.get<{ Params: Static<typeof OrgParams>; Querystring: Static<typeof ListQuery> }>(
    '/orgs/:org/scim-tokens',
    {
      config: { permission: 'scim:write' },
      schema: {
        params: OrgParams,
        querystring: ListQuery,
        response: { 200: Type.Object({ data: Type.Array(ScimTokenSchema) }) },
      },
    },
    async function listScimTokens(request) {
      const orgId = requireOrg(request.orgAccess).org.id;
      return { data: await scimTokens.listScimTokens(request.ctx, orgId, request.query.include_revoked) };
    },
  );

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof CreateBody> }>(
    '/orgs/:org/scim-tokens',
    {
      config: { permission: 'scim:write' },
      schema: {
        params: OrgParams,
        body: CreateBody,
        response: { 201: Type.Composite([ScimTokenSchema, Type.Object({ token: Type.String() })]) },
      },
    },
    async function createScimToken(request, reply) {
      const { name, expires_at } = request.body;
      const issued = await scimTokens.createScimToken(request.ctx, requireOrg(request.orgAccess).org.id, {
        name,
        expiresAt: expires_at === undefined ? undefined : Date.parse(expires_at),
      });
      return reply.status(201).send({ ...issued.scimToken, token: issued.token });
    },
  );

  app.delete<{ Params: Static<typeof TokenParams> }>(
    '/orgs/:org/scim-tokens/:scim_token_id',
    { config: { permission: 'scim:write' }, schema: { params: TokenParams } },
    async function revokeScimToken(request, reply) {
      await scimTokens.revokeScimToken(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        request.params.scim_token_id,
      );
      return reply.status(204).send();
    },
  );
};
