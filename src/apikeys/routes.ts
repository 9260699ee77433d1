// /v1/orgs/:org/api-keys (SPEC §4). `apikeys:own` lets a caller manage its own keys; with
// `apikeys:all` (admins) the same routes reach every key in the org and service accounts'
// keys. The secret is in the body of the create and rotate answers only, once.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { decideInOrg } from '../authz/index.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../core/pagination.ts';
import { requireOrg } from '../tenancy/index.ts';
import type { ApiKeysService, KeyScope } from './service.ts';

export interface ApiKeyRouteOptions {
  readonly apiKeys: ApiKeysService;
}

const ORG = Type.String({ minLength: 1, maxLength: 64 });
const OrgParams = Type.Object({ org: ORG });
const KeyParams = Type.Object({ org: ORG, api_key_id: Type.String({ pattern: '^key_[0-9a-z]{26}$' }) });
const MAX_OVERLAP_SECONDS = 30 * 86400;

const ApiKeySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  owner: Type.Object({
    kind: Type.Union([Type.Literal('user'), Type.Literal('service_account')]),
    id: Type.String(),
  }),
  read_only: Type.Boolean(),
  status: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  created_at: Type.String(),
  created_by: Type.Union([Type.String(), Type.Null()]),
  expires_at: Type.Union([Type.String(), Type.Null()]),
  last_used_at: Type.Union([Type.String(), Type.Null()]),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
  rotated_from: Type.Union([Type.String(), Type.Null()]),
  replaced_by: Type.Union([Type.String(), Type.Null()]),
});
const IssuedKeySchema = Type.Composite([ApiKeySchema, Type.Object({ token: Type.String() })]);

const ListQuery = Type.Object({
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
  owner_id: Type.Optional(Type.String({ pattern: '^(usr|sva)_[0-9a-z]{26}$' })),
  include_revoked: Type.Boolean({ default: false }),
});
const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    read_only: Type.Optional(Type.Boolean()),
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
    service_account_id: Type.Optional(Type.String({ pattern: '^sva_[0-9a-z]{26}$' })),
  },
  { additionalProperties: false },
);
const RotateBody = Type.Object(
  {
    overlap_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OVERLAP_SECONDS })),
    expires_at: Type.Optional(Type.Union([Type.String({ format: 'date-time' }), Type.Null()])),
  },
  { additionalProperties: false },
);

/**
 * Whether the caller reaches every key in the org (`apikeys:all`) or only its own. Seeing
 * every key is a matter of role, so a read-only credential of an admin lists them all too;
 * changing them needs a credential that may write.
 */
function scopeOf(request: FastifyRequest, use: 'read' | 'change'): KeyScope {
  const access = requireOrg(request.orgAccess);
  const principal = request.auth!.principal;
  const asking = use === 'read' ? { ...principal, readOnly: false } : principal;
  return { manageAll: decideInOrg(asking, access.role, 'apikeys:all').allowed };
}

export const v1ApiKeyRoutes: FastifyPluginAsync<ApiKeyRouteOptions> = async (app, { apiKeys }) => {
  app.get<{ Params: Static<typeof OrgParams>; Querystring: Static<typeof ListQuery> }>(
    '/orgs/:org/api-keys',
    {
      config: { permission: 'apikeys:read' },
      schema: {
        params: OrgParams,
        querystring: ListQuery,
        response: {
          200: Type.Object({
            data: Type.Array(ApiKeySchema),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async function listApiKeys(request) {
      const { cursor, limit, owner_id, include_revoked } = request.query;
      const page = await apiKeys.listApiKeys(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        { cursor, limit, ownerId: owner_id, includeRevoked: include_revoked },
        scopeOf(request, 'read'),
      );
      return { data: page.items, next_cursor: page.nextCursor };
    },
  );

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof CreateBody> }>(
    '/orgs/:org/api-keys',
    {
      config: { permission: 'apikeys:own' },
      schema: { params: OrgParams, body: CreateBody, response: { 201: IssuedKeySchema } },
    },
    async function createApiKey(request, reply) {
      const { name, read_only, expires_at, service_account_id } = request.body;
      const issued = await apiKeys.createApiKey(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        {
          name,
          readOnly: read_only,
          expiresAt: expires_at === undefined ? undefined : Date.parse(expires_at),
          serviceAccountId: service_account_id,
        },
        scopeOf(request, 'change'),
      );
      return reply.status(201).send({ ...issued.key, token: issued.token });
    },
  );

  app.get<{ Params: Static<typeof KeyParams> }>(
    '/orgs/:org/api-keys/:api_key_id',
    {
      config: { permission: 'apikeys:read' },
      schema: { params: KeyParams, response: { 200: ApiKeySchema } },
    },
    async function getApiKey(request) {
      const orgId = requireOrg(request.orgAccess).org.id;
      return apiKeys.getApiKey(request.ctx, orgId, request.params.api_key_id, scopeOf(request, 'read'));
    },
  );

  app.delete<{ Params: Static<typeof KeyParams> }>(
    '/orgs/:org/api-keys/:api_key_id',
    { config: { permission: 'apikeys:own' }, schema: { params: KeyParams } },
    async function revokeApiKey(request, reply) {
      const orgId = requireOrg(request.orgAccess).org.id;
      await apiKeys.revokeApiKey(request.ctx, orgId, request.params.api_key_id, scopeOf(request, 'change'));
      return reply.status(204).send();
    },
  );

  app.post<{ Params: Static<typeof KeyParams>; Body: Static<typeof RotateBody> }>(
    '/orgs/:org/api-keys/:api_key_id/rotate',
    {
      config: { permission: 'apikeys:own' },
      // Every field is optional, so an empty request (no body at all) means "the defaults".
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        params: KeyParams,
        body: RotateBody,
        response: { 201: Type.Composite([IssuedKeySchema, Type.Object({ previous: ApiKeySchema })]) },
      },
    },
    async function rotateApiKey(request, reply) {
      const orgId = requireOrg(request.orgAccess).org.id;
      const { overlap_seconds: seconds, expires_at: expiresAt } = request.body;
      const rotated = await apiKeys.rotateApiKey(
        request.ctx,
        orgId,
        request.params.api_key_id,
        {
          overlapMs: seconds === undefined ? undefined : seconds * 1000,
          expiresAt: expiresAt === undefined || expiresAt === null ? expiresAt : Date.parse(expiresAt),
        },
        scopeOf(request, 'change'),
      );
      return reply.status(201).send({ ...rotated.key, token: rotated.token, previous: rotated.previous });
    },
  );
};
