// The /v1 routes of the SSO capability (admins): connections and their test sign-ins, the
// presets, claimed domains, role rules and their preview, and the role explanation of a
// member. The browser side of sign-in is in sign-in-routes.ts.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { roles } from '../authz/index.ts';
import { GatehouseError } from '../core/errors.ts';
import type { CookieNames, SessionsService } from '../sessions/index.ts';
import { requireOrg, tenancyErrors } from '../tenancy/index.ts';
import { oidcPresets, samlPresets } from './presets.ts';
import type { SsoService } from './service.ts';
import { FLOW_LIFETIME_MS } from './sign-in.ts';

export interface SsoRouteOptions {
  readonly sso: SsoService;
  readonly sessions: SessionsService;
  readonly cookies: CookieNames;
  readonly secureCookies: boolean;
  readonly publicUrl: string;
}

const ORG = Type.String({ minLength: 1, maxLength: 64 });
const OrgParams = Type.Object({ org: ORG });
const ConnectionParams = Type.Object({
  org: ORG,
  connection_id: Type.String({ pattern: '^ssc_[0-9a-z]{26}$' }),
});
const DomainParams = Type.Object({ org: ORG, domain_id: Type.String({ pattern: '^dom_[0-9a-z]{26}$' }) });
const RuleParams = Type.Object({ org: ORG, rule_id: Type.String({ pattern: '^rrl_[0-9a-z]{26}$' }) });
const MemberParams = Type.Object({ org: ORG, user_id: Type.String({ pattern: '^usr_[0-9a-z]{26}$' }) });
const RoleSchema = Type.Union(roles.map((r) => Type.Literal(r)));
const AuthMethod = Type.Union([
  Type.Literal('client_secret_basic'),
  Type.Literal('client_secret_post'),
  Type.Literal('private_key_jwt'),
]);
const Scopes = Type.Array(
  Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' }),
  {
    maxItems: 30,
  },
);
const ClaimName = Type.String({ minLength: 1, maxLength: 100 });

const SamlConnectionSchema = Type.Object({
  id: Type.String(),
  type: Type.Literal('saml'),
  name: Type.String(),
  preset: Type.String(),
  enabled: Type.Boolean(),
  idp_entity_id: Type.String(),
  idp_sso_url: Type.String(),
  idp_certificates: Type.Array(Type.Object({ not_after: Type.String(), fingerprint_sha256: Type.String() })),
  metadata_url: Type.Union([Type.String(), Type.Null()]),
  allow_sha1: Type.Boolean(),
  allow_unsolicited: Type.Boolean(),
  trust_email: Type.Boolean(),
  email_attribute: Type.String(),
  name_attribute: Type.String(),
  groups_attribute: Type.String(),
  sp_entity_id: Type.String(),
  acs_url: Type.String(),
  sp_metadata_url: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const OidcConnectionSchema = Type.Object({
  id: Type.String(),
  type: Type.Literal('oidc'),
  name: Type.String(),
  preset: Type.String(),
  enabled: Type.Boolean(),
  issuer: Type.String(),
  client_id: Type.String(),
  token_endpoint_auth_method: AuthMethod,
  scopes: Type.Array(Type.String()),
  groups_claim: Type.String(),
  use_userinfo: Type.Boolean(),
  has_client_secret: Type.Boolean(),
  public_jwk: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  redirect_uri: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});
const ConnectionSchema = Type.Union([OidcConnectionSchema, SamlConnectionSchema]);
const AttributeName = Type.String({ minLength: 1, maxLength: 300 });
const Pem = Type.String({ minLength: 1, maxLength: 16_384 });
const SamlFields = {
  metadata_xml: Type.Optional(Type.String({ minLength: 1, maxLength: 512 * 1024 })),
  metadata_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  idp_entity_id: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  idp_sso_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  idp_certificates: Type.Optional(Type.Array(Pem, { minItems: 1, maxItems: 4 })),
  allow_sha1: Type.Optional(Type.Boolean()),
  allow_unsolicited: Type.Optional(Type.Boolean()),
  trust_email: Type.Optional(Type.Boolean()),
  email_attribute: Type.Optional(AttributeName),
  name_attribute: Type.Optional(AttributeName),
  groups_attribute: Type.Optional(AttributeName),
};
const CreateConnectionBody = Type.Object(
  {
    type: Type.String({ minLength: 1, maxLength: 20 }),
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    preset: Type.Optional(Type.String({ maxLength: 40 })),
    issuer: Type.Optional(Type.String({ maxLength: 2000 })),
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    token_endpoint_auth_method: Type.Optional(AuthMethod),
    scopes: Type.Optional(Scopes),
    groups_claim: Type.Optional(ClaimName),
    use_userinfo: Type.Optional(Type.Boolean()),
    enabled: Type.Optional(Type.Boolean()),
    ...SamlFields,
  },
  { additionalProperties: false },
);
const UpdateConnectionBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })),
    issuer: Type.Optional(Type.String({ maxLength: 2000 })),
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
    client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    scopes: Type.Optional(Scopes),
    groups_claim: Type.Optional(ClaimName),
    use_userinfo: Type.Optional(Type.Boolean()),
    enabled: Type.Optional(Type.Boolean()),
    ...SamlFields,
  },
  { additionalProperties: false, minProperties: 1 },
);
const DomainSchema = Type.Object({
  id: Type.String(),
  domain: Type.String(),
  connection_id: Type.Union([Type.String(), Type.Null()]),
  default_role: RoleSchema,
  verified: Type.Boolean(),
  verified_by: Type.Union([Type.String(), Type.Null()]),
  verified_at: Type.Union([Type.String(), Type.Null()]),
  verification_record: Type.Object({ type: Type.Literal('TXT'), name: Type.String(), value: Type.String() }),
  created_at: Type.String(),
});
const ConnectionRef = Type.Union([Type.String({ pattern: '^ssc_[0-9a-z]{26}$' }), Type.Null()]);
const CreateDomainBody = Type.Object(
  {
    domain: Type.String({ minLength: 1, maxLength: 253 }),
    connection_id: Type.Optional(ConnectionRef),
    default_role: Type.Optional(RoleSchema),
  },
  { additionalProperties: false },
);
const UpdateDomainBody = Type.Object(
  { connection_id: Type.Optional(ConnectionRef), default_role: Type.Optional(RoleSchema) },
  { additionalProperties: false, minProperties: 1 },
);
const RuleBody = Type.Object(
  {
    connection_id: Type.Optional(ConnectionRef),
    match: Type.Union([Type.Literal('group'), Type.Literal('claim')]),
    claim: Type.Optional(ClaimName),
    value: Type.String({ minLength: 1, maxLength: 256 }),
    role: RoleSchema,
  },
  { additionalProperties: false },
);
const RuleSchema = Type.Object({
  id: Type.String(),
  connection_id: Type.Union([Type.String(), Type.Null()]),
  match: Type.Union([Type.Literal('group'), Type.Literal('claim')]),
  claim: Type.Union([Type.String(), Type.Null()]),
  value: Type.String(),
  role: RoleSchema,
  created_at: Type.String(),
});
const PreviewBody = Type.Object(
  { rules: Type.Array(RuleBody, { maxItems: 200 }) },
  { additionalProperties: false },
);

export const v1SsoRoutes: FastifyPluginAsync<SsoRouteOptions> = async (app, opts) => {
  const { sso } = opts;

  app.get('/sso/presets', { config: { permission: 'profile:own' } }, async function listSsoPresets() {
    return {
      data: [
        ...oidcPresets.map((p) => ({
          id: p.id,
          label: p.label,
          type: p.type,
          issuer: p.issuer ?? null,
          issuer_example: p.issuerExample,
          scopes: p.scopes,
          groups_claim: p.groupsClaim,
          social: p.social,
        })),
        ...samlPresets.map((p) => ({
          id: p.id,
          label: p.label,
          type: p.type,
          email_attribute: p.emailAttribute,
          name_attribute: p.nameAttribute,
          groups_attribute: p.groupsAttribute,
        })),
      ],
    };
  });

  app.get<{ Params: Static<typeof OrgParams> }>(
    '/orgs/:org/sso/connections',
    {
      config: { permission: 'sso:read' },
      schema: { params: OrgParams, response: { 200: Type.Object({ data: Type.Array(ConnectionSchema) }) } },
    },
    async function listSsoConnections(request) {
      return { data: await sso.listConnections(request.ctx, requireOrg(request.orgAccess).org.id) };
    },
  );

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof CreateConnectionBody> }>(
    '/orgs/:org/sso/connections',
    {
      config: { permission: 'sso:write' },
      schema: { params: OrgParams, body: CreateConnectionBody, response: { 201: ConnectionSchema } },
    },
    async function createSsoConnection(request, reply) {
      const view = await sso.createConnection(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        request.body,
      );
      return reply.status(201).send(view);
    },
  );

  app.get<{ Params: Static<typeof ConnectionParams> }>(
    '/orgs/:org/sso/connections/:connection_id',
    {
      config: { permission: 'sso:read' },
      schema: { params: ConnectionParams, response: { 200: ConnectionSchema } },
    },
    async function getSsoConnection(request) {
      return sso.getConnection(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        request.params.connection_id,
      );
    },
  );

  app.patch<{ Params: Static<typeof ConnectionParams>; Body: Static<typeof UpdateConnectionBody> }>(
    '/orgs/:org/sso/connections/:connection_id',
    {
      config: { permission: 'sso:write' },
      schema: { params: ConnectionParams, body: UpdateConnectionBody, response: { 200: ConnectionSchema } },
    },
    async function updateSsoConnection(request) {
      return sso.updateConnection(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        request.params.connection_id,
        request.body,
      );
    },
  );

  app.delete<{ Params: Static<typeof ConnectionParams> }>(
    '/orgs/:org/sso/connections/:connection_id',
    { config: { permission: 'sso:write' }, schema: { params: ConnectionParams } },
    async function deleteSsoConnection(request, reply) {
      await sso.deleteConnection(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        request.params.connection_id,
      );
      return reply.status(204).send();
    },
  );

  // A test sign-in: the admin opens the returned URL; the callback shows a step-by-step
  // report instead of signing anyone in.
  app.post<{ Params: Static<typeof ConnectionParams> }>(
    '/orgs/:org/sso/connections/:connection_id/test',
    {
      config: { permission: 'sso:write' },
      schema: {
        params: ConnectionParams,
        response: { 200: Type.Object({ url: Type.String(), expires_at: Type.String() }) },
      },
    },
    async function startSsoTest(request) {
      const { org } = requireOrg(request.orgAccess);
      await sso.getConnection(request.ctx, org.id, request.params.connection_id);
      return {
        url: `${opts.publicUrl}/sso/${request.params.connection_id}/start?test=1`,
        expires_at: new Date(request.ctx.clock.now() + FLOW_LIFETIME_MS).toISOString(),
      };
    },
  );

  app.get<{ Params: Static<typeof OrgParams> }>(
    '/orgs/:org/sso/domains',
    {
      config: { permission: 'sso:read' },
      schema: { params: OrgParams, response: { 200: Type.Object({ data: Type.Array(DomainSchema) }) } },
    },
    async function listSsoDomains(request) {
      return { data: await sso.listDomains(request.ctx, requireOrg(request.orgAccess).org.id) };
    },
  );

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof CreateDomainBody> }>(
    '/orgs/:org/sso/domains',
    {
      config: { permission: 'sso:write' },
      schema: { params: OrgParams, body: CreateDomainBody, response: { 201: DomainSchema } },
    },
    async function addSsoDomain(request, reply) {
      return reply
        .status(201)
        .send(await sso.addDomain(request.ctx, requireOrg(request.orgAccess).org.id, request.body));
    },
  );

  app.patch<{ Params: Static<typeof DomainParams>; Body: Static<typeof UpdateDomainBody> }>(
    '/orgs/:org/sso/domains/:domain_id',
    {
      config: { permission: 'sso:write' },
      schema: { params: DomainParams, body: UpdateDomainBody, response: { 200: DomainSchema } },
    },
    async function updateSsoDomain(request) {
      return sso.updateDomain(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        request.params.domain_id,
        request.body,
      );
    },
  );

  app.post<{ Params: Static<typeof DomainParams> }>(
    '/orgs/:org/sso/domains/:domain_id/verify',
    {
      config: { permission: 'sso:write' },
      schema: { params: DomainParams, response: { 200: DomainSchema } },
    },
    async function verifySsoDomain(request) {
      return sso.verifyDomainByDns(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        request.params.domain_id,
      );
    },
  );

  app.delete<{ Params: Static<typeof DomainParams> }>(
    '/orgs/:org/sso/domains/:domain_id',
    { config: { permission: 'sso:write' }, schema: { params: DomainParams } },
    async function removeSsoDomain(request, reply) {
      await sso.removeDomain(request.ctx, requireOrg(request.orgAccess).org.id, request.params.domain_id);
      return reply.status(204).send();
    },
  );

  app.get<{ Params: Static<typeof OrgParams> }>(
    '/orgs/:org/role-rules',
    {
      config: { permission: 'sso:read' },
      schema: { params: OrgParams, response: { 200: Type.Object({ data: Type.Array(RuleSchema) }) } },
    },
    async function listRoleRules(request) {
      return { data: await sso.listRules(request.ctx, requireOrg(request.orgAccess).org.id) };
    },
  );

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof RuleBody> }>(
    '/orgs/:org/role-rules',
    {
      config: { permission: 'sso:write' },
      schema: { params: OrgParams, body: RuleBody, response: { 201: RuleSchema } },
    },
    async function createRoleRule(request, reply) {
      return reply
        .status(201)
        .send(await sso.createRule(request.ctx, requireOrg(request.orgAccess).org.id, request.body));
    },
  );

  app.delete<{ Params: Static<typeof RuleParams> }>(
    '/orgs/:org/role-rules/:rule_id',
    { config: { permission: 'sso:write' }, schema: { params: RuleParams } },
    async function deleteRoleRule(request, reply) {
      await sso.deleteRule(request.ctx, requireOrg(request.orgAccess).org.id, request.params.rule_id);
      return reply.status(204).send();
    },
  );

  app.post<{ Params: Static<typeof OrgParams>; Body: Static<typeof PreviewBody> }>(
    '/orgs/:org/role-rules/preview',
    {
      config: { permission: 'sso:read', csrf: 'not_a_state_change' },
      schema: { params: OrgParams, body: PreviewBody },
    },
    async function previewRoleRules(request) {
      return sso.previewRules(request.ctx, requireOrg(request.orgAccess).org.id, request.body.rules);
    },
  );

  app.get<{ Params: Static<typeof MemberParams> }>(
    '/orgs/:org/members/:user_id/role-explanation',
    {
      config: { permission: 'members:read' },
      schema: {
        params: MemberParams,
        response: {
          200: Type.Object({
            role: RoleSchema,
            role_source: Type.String(),
            reason: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
          }),
        },
      },
    },
    async function explainMemberRole(request) {
      const explanation = await sso.explainRole(
        request.ctx,
        requireOrg(request.orgAccess).org.id,
        request.params.user_id,
      );
      if (!explanation) throw new GatehouseError(tenancyErrors.userNotFound, { field: 'user_id' });
      return { role: explanation.role, role_source: explanation.roleSource, reason: explanation.reason };
    },
  );
};
