// /v1 routes for orgs and members. Each handler calls one service function; the guard has
// already checked the permission and resolved the org.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { requireOrg } from './access.ts';
import {
  EmailSchema,
  MemberParams,
  MemberSchema,
  NameSchema,
  OrgParams,
  OrgSchema,
  PageQuery,
  pageOf,
  RoleSchema,
  SlugSchema,
} from './schemas.ts';
import type { TenancyService } from './service.ts';

export interface TenancyRouteOptions {
  readonly tenancy: TenancyService;
}

const CreateOrgBody = Type.Object({ slug: SlugSchema, name: NameSchema }, { additionalProperties: false });
const UpdateOrgBody = Type.Object(
  {
    name: Type.Optional(NameSchema),
    default_role: Type.Optional(RoleSchema),
    session_idle_timeout_seconds: Type.Optional(Type.Integer({ minimum: 300, maximum: 30 * 86400 })),
    session_absolute_lifetime_seconds: Type.Optional(Type.Integer({ minimum: 900, maximum: 90 * 86400 })),
    sso_required: Type.Optional(Type.Boolean()),
    break_glass_user_id: Type.Optional(
      Type.Union([Type.String({ pattern: '^usr_[0-9a-z]{26}$' }), Type.Null()]),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
const MemberListQuery = Type.Object({
  ...PageQuery,
  role: Type.Optional(RoleSchema),
  status: Type.Optional(
    Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('deprovisioned')]),
  ),
});
const AddMemberBody = Type.Object(
  {
    email: EmailSchema,
    name: NameSchema,
    role: RoleSchema,
    password: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
const UpdateMemberBody = Type.Object(
  {
    role: Type.Optional(RoleSchema),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('suspended')])),
  },
  { additionalProperties: false, minProperties: 1 },
);
const OrgSummary = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  role: Type.String(),
});

export const v1TenancyRoutes: FastifyPluginAsync<TenancyRouteOptions> = async (app, { tenancy }) => {
  app.get(
    '/orgs',
    {
      config: { permission: 'profile:own' },
      schema: { response: { 200: Type.Object({ data: Type.Array(OrgSummary) }) } },
    },
    async function listMyOrgs(request) {
      const principal = request.auth!.principal;
      if (principal.kind === 'service_account' && principal.orgRestriction) {
        const access = await tenancy.resolveOrgAccess(request.ctx, principal, principal.orgRestriction);
        return { data: access ? [{ ...access.org, role: access.role }] : [] };
      }
      const orgs = await tenancy.listOrgsOfUser(request.ctx, principal.id);
      const visible = principal.orgRestriction ? orgs.filter((o) => o.id === principal.orgRestriction) : orgs;
      return { data: visible.map(({ id, slug, name, role }) => ({ id, slug, name, role })) };
    },
  );

  app.post<{ Body: Static<typeof CreateOrgBody> }>(
    '/orgs',
    { config: { permission: 'orgs:create' }, schema: { body: CreateOrgBody, response: { 201: OrgSchema } } },
    async function createOrg(request, reply) {
      const org = await tenancy.createOrg(request.ctx, request.body, request.auth!.principal.id);
      return reply.status(201).send(org);
    },
  );

  app.get<{ Params: Static<typeof OrgParams> }>(
    '/orgs/:org',
    { config: { permission: 'org:read' }, schema: { params: OrgParams, response: { 200: OrgSchema } } },
    async function getOrg(request) {
      return tenancy.getOrg(request.ctx, requireOrg(request.orgAccess).org.id);
    },
  );

  app.patch<{ Params: Static<typeof OrgParams>; Body: Static<typeof UpdateOrgBody> }>(
    '/orgs/:org',
    {
      config: { permission: 'settings:write' },
      schema: { params: OrgParams, body: UpdateOrgBody, response: { 200: OrgSchema } },
    },
    async function updateOrg(request) {
      return tenancy.updateOrgSettings(request.ctx, requireOrg(request.orgAccess).org.id, request.body);
    },
  );

  app.get<{ Params: Static<typeof OrgParams>; Querystring: Static<typeof MemberListQuery> }>(
    '/orgs/:org/members',
    {
      config: { permission: 'members:read' },
      schema: { params: OrgParams, querystring: MemberListQuery, response: { 200: pageOf(MemberSchema) } },
    },
    async function listMembers(request) {
      const page = await tenancy.listMembers(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        request.query,
      );
      return { data: page.items, next_cursor: page.nextCursor };
    },
  );

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof AddMemberBody> }>(
    '/orgs/:org/members',
    {
      config: { permission: 'members:write' },
      schema: { params: OrgParams, body: AddMemberBody, response: { 201: MemberSchema } },
    },
    async function addMember(request, reply) {
      const member = await tenancy.addMember(request.ctx, requireOrg(request.orgAccess).org.id, request.body);
      return reply.status(201).send(member);
    },
  );

  app.get<{ Params: Static<typeof MemberParams> }>(
    '/orgs/:org/members/:user_id',
    {
      config: { permission: 'members:read' },
      schema: { params: MemberParams, response: { 200: MemberSchema } },
    },
    async function getMember(request) {
      return tenancy.getMember(request.ctx, requireOrg(request.orgAccess).org.id, request.params.user_id);
    },
  );

  app.patch<{ Params: Static<typeof MemberParams>; Body: Static<typeof UpdateMemberBody> }>(
    '/orgs/:org/members/:user_id',
    {
      config: { permission: 'members:write' },
      schema: { params: MemberParams, body: UpdateMemberBody, response: { 200: MemberSchema } },
    },
    async function updateMember(request) {
      const orgId = requireOrg(request.orgAccess).org.id;
      const { role, status } = request.body;
      // One transaction for both changes, so a role change never lands without its status change.
      return tenancy.updateMember(request.ctx, orgId, request.params.user_id, { role, status });
    },
  );

  app.delete<{ Params: Static<typeof MemberParams> }>(
    '/orgs/:org/members/:user_id',
    { config: { permission: 'members:write' }, schema: { params: MemberParams } },
    async function removeMember(request, reply) {
      await tenancy.removeMember(request.ctx, requireOrg(request.orgAccess).org.id, request.params.user_id);
      return reply.status(204).send();
    },
  );
};
