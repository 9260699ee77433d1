// /v1 routes for an org's projects, groups and service accounts (SPEC §1). Each handler calls
// one service function; the guard has already checked the permission and resolved the org.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { requireOrg } from './access.ts';
import type { TenancyRouteOptions } from './routes.ts';
import {
  DescriptionSchema,
  GroupMemberParams,
  GroupMemberSchema,
  GroupParams,
  GroupSchema,
  NameSchema,
  OrgParams,
  PageQuery,
  ProjectParams,
  ProjectSchema,
  pageOf,
  RoleSchema,
  ServiceAccountParams,
  ServiceAccountSchema,
} from './schemas.ts';
import type { TenancyService } from './service.ts';

const ListQuery = Type.Object(PageQuery);
const CreateProjectBody = Type.Object(
  { name: NameSchema, description: Type.Optional(DescriptionSchema) },
  { additionalProperties: false },
);
const UpdateProjectBody = Type.Object(
  { name: Type.Optional(NameSchema), description: Type.Optional(DescriptionSchema) },
  { additionalProperties: false, minProperties: 1 },
);
const CreateGroupBody = Type.Object({ name: NameSchema }, { additionalProperties: false });
const CreateServiceAccountBody = Type.Object(
  { name: NameSchema, role: RoleSchema },
  { additionalProperties: false },
);
const UpdateServiceAccountBody = Type.Object(
  {
    name: Type.Optional(NameSchema),
    role: Type.Optional(RoleSchema),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

type ListRoute = { Params: Static<typeof OrgParams>; Querystring: Static<typeof ListQuery> };

function projectRoutes(app: FastifyInstance, tenancy: TenancyService): void {
  app.get<ListRoute>(
    '/orgs/:org/projects',
    {
      config: { permission: 'projects:read' },
      schema: { params: OrgParams, querystring: ListQuery, response: { 200: pageOf(ProjectSchema) } },
    },
    async function listProjects(request) {
      const page = await tenancy.listProjects(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        request.query,
      );
      return { data: page.items, next_cursor: page.nextCursor };
    },
  );

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof CreateProjectBody> }>(
    '/orgs/:org/projects',
    {
      config: { permission: 'projects:write' },
      schema: { params: OrgParams, body: CreateProjectBody, response: { 201: ProjectSchema } },
    },
    async function createProject(request, reply) {
      const orgId = requireOrg(request.orgAccess).org.id;
      return reply.status(201).send(await tenancy.createProject(request.ctx, orgId, request.body));
    },
  );

  app.get<{ Params: Static<typeof ProjectParams> }>(
    '/orgs/:org/projects/:project_id',
    {
      config: { permission: 'projects:read' },
      schema: { params: ProjectParams, response: { 200: ProjectSchema } },
    },
    async function getProject(request) {
      const orgId = requireOrg(request.orgAccess).org.id;
      return tenancy.getProject(request.ctx, orgId, request.params.project_id);
    },
  );

  app.patch<{ Params: Static<typeof ProjectParams>; Body: Static<typeof UpdateProjectBody> }>(
    '/orgs/:org/projects/:project_id',
    {
      config: { permission: 'projects:write' },
      schema: { params: ProjectParams, body: UpdateProjectBody, response: { 200: ProjectSchema } },
    },
    async function updateProject(request) {
      const orgId = requireOrg(request.orgAccess).org.id;
      return tenancy.updateProject(request.ctx, orgId, request.params.project_id, request.body);
    },
  );

  app.delete<{ Params: Static<typeof ProjectParams> }>(
    '/orgs/:org/projects/:project_id',
    { config: { permission: 'projects:write' }, schema: { params: ProjectParams } },
    async function deleteProject(request, reply) {
      const orgId = requireOrg(request.orgAccess).org.id;
      await tenancy.deleteProject(request.ctx, orgId, request.params.project_id);
      return reply.status(204).send();
    },
  );
}

function groupRoutes(app: FastifyInstance, tenancy: TenancyService): void {
  app.get<ListRoute>(
    '/orgs/:org/groups',
    {
      config: { permission: 'groups:read' },
      schema: { params: OrgParams, querystring: ListQuery, response: { 200: pageOf(GroupSchema) } },
    },
    async function listGroups(request) {
      const page = await tenancy.listGroups(request.ctx, requireOrg(request.orgAccess).org.id, request.query);
      return { data: page.items, next_cursor: page.nextCursor };
    },
  );

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof CreateGroupBody> }>(
    '/orgs/:org/groups',
    {
      config: { permission: 'groups:write' },
      schema: { params: OrgParams, body: CreateGroupBody, response: { 201: GroupSchema } },
    },
    async function createGroup(request, reply) {
      const orgId = requireOrg(request.orgAccess).org.id;
      return reply.status(201).send(await tenancy.createGroup(request.ctx, orgId, request.body));
    },
  );

  app.get<{ Params: Static<typeof GroupParams> }>(
    '/orgs/:org/groups/:group_id',
    {
      config: { permission: 'groups:read' },
      schema: { params: GroupParams, response: { 200: GroupSchema } },
    },
    async function getGroup(request) {
      return tenancy.getGroup(request.ctx, requireOrg(request.orgAccess).org.id, request.params.group_id);
    },
  );

  app.delete<{ Params: Static<typeof GroupParams> }>(
    '/orgs/:org/groups/:group_id',
    { config: { permission: 'groups:write' }, schema: { params: GroupParams } },
    async function deleteGroup(request, reply) {
      await tenancy.deleteGroup(request.ctx, requireOrg(request.orgAccess).org.id, request.params.group_id);
      return reply.status(204).send();
    },
  );

  app.get<{ Params: Static<typeof GroupParams>; Querystring: Static<typeof ListQuery> }>(
    '/orgs/:org/groups/:group_id/members',
    {
      config: { permission: 'groups:read' },
      schema: { params: GroupParams, querystring: ListQuery, response: { 200: pageOf(GroupMemberSchema) } },
    },
    async function listGroupMembers(request) {
      const orgId = requireOrg(request.orgAccess).org.id;
      const page = await tenancy.listGroupMembers(request.ctx, orgId, request.params.group_id, request.query);
      return { data: page.items, next_cursor: page.nextCursor };
    },
  );

  // PUT carries no body: the path says everything, and repeating it changes nothing.
  app.put<{ Params: Static<typeof GroupMemberParams> }>(
    '/orgs/:org/groups/:group_id/members/:user_id',
    { config: { permission: 'groups:write' }, schema: { params: GroupMemberParams } },
    async function addGroupMember(request, reply) {
      const { group_id, user_id } = request.params;
      await tenancy.addGroupMember(request.ctx, requireOrg(request.orgAccess).org.id, group_id, user_id);
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: Static<typeof GroupMemberParams> }>(
    '/orgs/:org/groups/:group_id/members/:user_id',
    { config: { permission: 'groups:write' }, schema: { params: GroupMemberParams } },
    async function removeGroupMember(request, reply) {
      const { group_id, user_id } = request.params;
      await tenancy.removeGroupMember(request.ctx, requireOrg(request.orgAccess).org.id, group_id, user_id);
      return reply.status(204).send();
    },
  );
}

function serviceAccountRoutes(app: FastifyInstance, tenancy: TenancyService): void {
  app.get<ListRoute>(
    '/orgs/:org/service-accounts',
    {
      config: { permission: 'service_accounts:read' },
      schema: { params: OrgParams, querystring: ListQuery, response: { 200: pageOf(ServiceAccountSchema) } },
    },
    async function listServiceAccounts(request) {
      const orgId = requireOrg(request.orgAccess).org.id;
      const page = await tenancy.listServiceAccounts(request.ctx, orgId, request.query);
      return { data: page.items, next_cursor: page.nextCursor };
    },
  );

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof CreateServiceAccountBody> }>(
    '/orgs/:org/service-accounts',
    {
      config: { permission: 'service_accounts:write' },
      schema: { params: OrgParams, body: CreateServiceAccountBody, response: { 201: ServiceAccountSchema } },
    },
    async function createServiceAccount(request, reply) {
      const orgId = requireOrg(request.orgAccess).org.id;
      return reply.status(201).send(await tenancy.createServiceAccount(request.ctx, orgId, request.body));
    },
  );

  app.get<{ Params: Static<typeof ServiceAccountParams> }>(
    '/orgs/:org/service-accounts/:service_account_id',
    {
      config: { permission: 'service_accounts:read' },
      schema: { params: ServiceAccountParams, response: { 200: ServiceAccountSchema } },
    },
    async function getServiceAccount(request) {
      const orgId = requireOrg(request.orgAccess).org.id;
      return tenancy.getServiceAccount(request.ctx, orgId, request.params.service_account_id);
    },
  );

  app.patch<{ Params: Static<typeof ServiceAccountParams>; Body: Static<typeof UpdateServiceAccountBody> }>(
    '/orgs/:org/service-accounts/:service_account_id',
    {
      config: { permission: 'service_accounts:write' },
      schema: {
        params: ServiceAccountParams,
        body: UpdateServiceAccountBody,
        response: { 200: ServiceAccountSchema },
      },
    },
    async function updateServiceAccount(request) {
      const orgId = requireOrg(request.orgAccess).org.id;
      return tenancy.updateServiceAccount(
        request.ctx,
        orgId,
        request.params.service_account_id,
        request.body,
      );
    },
  );

  app.delete<{ Params: Static<typeof ServiceAccountParams> }>(
    '/orgs/:org/service-accounts/:service_account_id',
    { config: { permission: 'service_accounts:write' }, schema: { params: ServiceAccountParams } },
    async function deleteServiceAccount(request, reply) {
      const orgId = requireOrg(request.orgAccess).org.id;
      await tenancy.deleteServiceAccount(request.ctx, orgId, request.params.service_account_id);
      return reply.status(204).send();
    },
  );
}

export const v1TenancyResourceRoutes: FastifyPluginAsync<TenancyRouteOptions> = async (app, { tenancy }) => {
  projectRoutes(app, tenancy);
  groupRoutes(app, tenancy);
  serviceAccountRoutes(app, tenancy);
};
