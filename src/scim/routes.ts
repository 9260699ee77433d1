// /scim/v2 discovery (RFC 7644 §4): what IdPs read before they provision. The surface
// (http/scim-surface.ts) has admitted the SCIM token to its org by the time a handler runs.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { GatehouseError } from '../core/errors.ts';
import { listResponse, resourceTypes, schemas, serviceProviderConfig } from './discovery.ts';
import { scimErrors } from './errors.ts';

export interface ScimRouteOptions {
  /** The public URL of /scim/v2, for `meta.location`. */
  readonly baseUrl: string;
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
