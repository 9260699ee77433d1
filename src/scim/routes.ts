// /scim/v2 (RFC 7644): discovery (§4), what IdPs read before they provision, and the Users
// and Groups resources (§3). The surface (http/scim-surface.ts) has admitted the SCIM token
// to its org by the time a handler runs; the org always comes from there, never the URL.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../core/errors.ts';
import { requireOrg } from '../tenancy/index.ts';
import { listResponse, resourceTypes, schemas, serviceProviderConfig } from './discovery.ts';
import { scimErrors } from './errors.ts';
import type { ScimService, Versioned } from './service.ts';

export interface ScimRouteOptions {
  /** The public URL of /scim/v2, for `meta.location`. */
  readonly baseUrl: string;
}

export interface ScimResourceRouteOptions {
  readonly scim: ScimService;
}

/** SCIM documents are open-ended (extensions, RFC 7643 §3.3): checked for their schemas, passed on whole. */
const ScimDocument = Type.Object({ schemas: Type.Array(Type.String()) }, { additionalProperties: true });
const ListDocument = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    totalResults: Type.Integer(),
    startIndex: Type.Integer(),
    itemsPerPage: Type.Integer(),
    Resources: Type.Array(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

function byId<T extends { id: string }>(documents: readonly T[], id: string): T {
  const found = documents.find((document) => document.id === id);
  if (!found) throw new GatehouseError(scimErrors.notFound, { field: 'id' });
  return found;
}

export const scimDiscoveryRoutes: FastifyPluginAsync<ScimRouteOptions> = async (app, { baseUrl }) => {
  const config = { permission: 'scim:write' } as const;
  app.get(
    '/ServiceProviderConfig',
    { config, schema: { response: { 200: ScimDocument } } },
    async function getServiceProviderConfig() {
      return serviceProviderConfig(baseUrl);
    },
  );
  app.get(
    '/ResourceTypes',
    { config, schema: { response: { 200: ListDocument } } },
    async function listResourceTypes() {
      const all = resourceTypes(baseUrl);
      return listResponse(all, all.length, 1);
    },
  );
  app.get<{ Params: Static<typeof IdParams> }>(
    '/ResourceTypes/:id',
    { config, schema: { params: IdParams, response: { 200: ScimDocument } } },
    async function getResourceType(request) {
      return byId(resourceTypes(baseUrl), request.params.id);
    },
  );
  app.get('/Schemas', { config, schema: { response: { 200: ListDocument } } }, async function listSchemas() {
    const all = schemas(baseUrl);
    return listResponse(all, all.length, 1);
  });
  app.get<{ Params: Static<typeof IdParams> }>(
    '/Schemas/:id',
    { config, schema: { params: IdParams, response: { 200: ScimDocument } } },
    async function getSchema(request) {
      return byId(schemas(baseUrl) as { id: string }[], request.params.id);
    },
  );
};

const Projection = {
  attributes: Type.Optional(Type.String({ maxLength: 2048 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 2048 })),
};
const ListQuery = Type.Object(
  {
    filter: Type.Optional(Type.String({ maxLength: 4096 })),
    startIndex: Type.Optional(Type.Integer()),
    count: Type.Optional(Type.Integer()),
    ...Projection,
  },
  { additionalProperties: true },
);
const ProjectionQuery = Type.Object(Projection, { additionalProperties: true });
/** A PatchOp, checked for its operations by patch/apply.ts, which names what is wrong. */
const PatchDocument = Type.Object({}, { additionalProperties: true });

type ListRequest = FastifyRequest<{ Querystring: Static<typeof ListQuery> }>;
type ReadRequest = FastifyRequest<{
  Params: Static<typeof IdParams>;
  Querystring: Static<typeof ProjectionQuery>;
}>;
type WriteRequest = FastifyRequest<{ Params: Static<typeof IdParams>; Body: unknown }>;

function ifMatch(request: FastifyRequest): string | undefined {
  const value = request.headers['if-match'];
  return Array.isArray(value) ? value.join(',') : value;
}

function orgOf(request: FastifyRequest): string {
  return requireOrg(request.orgAccess).org.id;
}

function answer(reply: FastifyReply, written: Versioned, status = 200) {
  reply.status(status).header('etag', written.etag);
  if (status === 201)
    reply.header('location', String((written.resource.meta as { location: string }).location));
  return written.resource;
}

/** Users and Groups: the same six routes each (RFC 7644 §3.2–3.6). */
export const scimResourceRoutes: FastifyPluginAsync<ScimResourceRouteOptions> = async (app, { scim }) => {
  const config = { permission: 'scim:write' } as const;
  const list = { config, schema: { querystring: ListQuery, response: { 200: ListDocument } } };
  const read = {
    config,
    schema: { params: IdParams, querystring: ProjectionQuery, response: { 200: ScimDocument } },
  };
  const create = { config, schema: { body: ScimDocument, response: { 201: ScimDocument } } };
  const replace = {
    config,
    schema: { params: IdParams, body: ScimDocument, response: { 200: ScimDocument } },
  };
  const patchUser = {
    config,
    schema: { params: IdParams, body: PatchDocument, response: { 200: ScimDocument } },
  };
  const patchGroup = { config, schema: { params: IdParams, body: PatchDocument } };
  const remove = { config, schema: { params: IdParams } };

  app.get('/Users', list, async function listScimUsers(request: ListRequest) {
    const found = await scim.listUsers(request.ctx, orgOf(request), request.query);
    return listResponse(found.resources, found.totalResults, found.startIndex);
  });
  app.post('/Users', create, async function provisionScimUser(request: WriteRequest, reply) {
    return answer(reply, await scim.createUser(request.ctx, orgOf(request), request.body), 201);
  });
  app.get('/Users/:id', read, async function getScimUser(request: ReadRequest, reply) {
    return answer(reply, await scim.getUser(request.ctx, orgOf(request), request.params.id, request.query));
  });
  app.put('/Users/:id', replace, async function replaceScimUser(request: WriteRequest, reply) {
    return answer(
      reply,
      await scim.replaceUser(request.ctx, orgOf(request), request.params.id, request.body, ifMatch(request)),
    );
  });
  app.patch('/Users/:id', patchUser, async function patchScimUser(request: WriteRequest, reply) {
    return answer(
      reply,
      await scim.patchUser(request.ctx, orgOf(request), request.params.id, request.body, ifMatch(request)),
    );
  });
  app.delete('/Users/:id', remove, async function deleteScimUser(request: WriteRequest, reply) {
    await scim.deleteUser(request.ctx, orgOf(request), request.params.id, ifMatch(request));
    return reply.status(204).send();
  });

  app.get('/Groups', list, async function listScimGroups(request: ListRequest) {
    const found = await scim.listGroups(request.ctx, orgOf(request), request.query);
    return listResponse(found.resources, found.totalResults, found.startIndex);
  });
  app.post('/Groups', create, async function createScimGroup(request: WriteRequest, reply) {
    return answer(reply, await scim.createGroup(request.ctx, orgOf(request), request.body), 201);
  });
  app.get('/Groups/:id', read, async function getScimGroup(request: ReadRequest, reply) {
    return answer(reply, await scim.getGroup(request.ctx, orgOf(request), request.params.id, request.query));
  });
  app.put('/Groups/:id', replace, async function replaceScimGroup(request: WriteRequest, reply) {
    return answer(
      reply,
      await scim.replaceGroup(request.ctx, orgOf(request), request.params.id, request.body, ifMatch(request)),
    );
  });
  app.patch('/Groups/:id', patchGroup, async function patchScimGroup(request: WriteRequest, reply) {
    const etag = await scim.patchGroup(
      request.ctx,
      orgOf(request),
      request.params.id,
      request.body,
      ifMatch(request),
    );
    return reply.status(204).header('etag', etag).send();
  });
  app.delete('/Groups/:id', remove, async function deleteScimGroup(request: WriteRequest, reply) {
    await scim.deleteGroup(request.ctx, orgOf(request), request.params.id, ifMatch(request));
    return reply.status(204).send();
  });
};
