// SQL for SSO: connections, claimed domains, identity links, sign-ins in progress and role
// rules. Flows are consumed with one conditional UPDATE, so a replayed callback finds
// nothing to consume on any node.
import { type ErrorDefinition, GatehouseError } from '../core/errors.ts';
import {
  type Ctx,
  isUniqueViolation,
  type RoleRulesTable,
  type SsoConnectionsTable,
  type SsoDomainsTable,
  type SsoFlowsTable,
  type SsoIdentitiesTable,
} from '../db/index.ts';
import { ssoErrors } from './errors.ts';

export type ConnectionRow = SsoConnectionsTable;
export type DomainRow = SsoDomainsTable;
export type IdentityRow = SsoIdentitiesTable;
export type FlowRow = SsoFlowsTable;
export type RoleRuleRow = RoleRulesTable;

/** Runs a write, turning a unique violation into the capability's error naming the field. */
async function unique(
  work: () => Promise<unknown>,
  definition: ErrorDefinition,
  field: string,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw new GatehouseError(definition, { field, cause: error });
    throw error;
  }
}

export async function insertConnection(ctx: Ctx, row: ConnectionRow): Promise<void> {
  await unique(
    () => ctx.db.insertInto('sso_connections').values(row).execute(),
    ssoErrors.connectionNameTaken,
    'name',
  );
}

export function selectConnection(ctx: Ctx, orgId: string, id: string): Promise<ConnectionRow | undefined> {
  return ctx.db
    .selectFrom('sso_connections')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** A connection by id alone: the public sign-in routes name the connection, not the org. */
export function selectConnectionById(ctx: Ctx, id: string): Promise<ConnectionRow | undefined> {
  return ctx.db.selectFrom('sso_connections').selectAll().where('id', '=', id).executeTakeFirst();
}

export function selectConnections(ctx: Ctx, orgId: string): Promise<ConnectionRow[]> {
  return ctx.db.selectFrom('sso_connections').selectAll().where('org_id', '=', orgId).orderBy('id').execute();
}

export async function updateConnection(
  ctx: Ctx,
  id: string,
  patch: Partial<Omit<ConnectionRow, 'id' | 'org_id' | 'type' | 'created_at'>>,
): Promise<void> {
  await unique(
    () => ctx.db.updateTable('sso_connections').set(patch).where('id', '=', id).execute(),
    ssoErrors.connectionNameTaken,
    'name',
  );
}

export async function deleteConnection(ctx: Ctx, orgId: string, id: string): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom('sso_connections')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function insertDomain(ctx: Ctx, row: DomainRow): Promise<void> {
  await unique(() => ctx.db.insertInto('sso_domains').values(row).execute(), ssoErrors.domainTaken, 'domain');
}

export function selectDomains(ctx: Ctx, orgId: string): Promise<DomainRow[]> {
  return ctx.db.selectFrom('sso_domains').selectAll().where('org_id', '=', orgId).orderBy('domain').execute();
}

export function selectDomain(ctx: Ctx, orgId: string, id: string): Promise<DomainRow | undefined> {
  return ctx.db
    .selectFrom('sso_domains')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** The claim on a domain, whoever holds it (one org per domain). */
export function selectDomainByName(ctx: Ctx, domain: string): Promise<DomainRow | undefined> {
  return ctx.db.selectFrom('sso_domains').selectAll().where('domain', '=', domain).executeTakeFirst();
}

export async function markDomainVerified(ctx: Ctx, id: string, by: string, at: number): Promise<void> {
  await ctx.db
    .updateTable('sso_domains')
    .set({ verified_at: at, verified_by: by })
    .where('id', '=', id)
    .execute();
}

export async function deleteDomain(ctx: Ctx, orgId: string, id: string): Promise<boolean> {
  const result = await ctx.db
    .deleteFrom('sso_domains')
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export function selectIdentity(
  ctx: Ctx,
  connectionId: string,
  subject: string,
): Promise<IdentityRow | undefined> {
  return ctx.db
    .selectFrom('sso_identities')
    .selectAll()
    .where('connection_id', '=', connectionId)
    .where('subject', '=', subject)
    .executeTakeFirst();
}

export async function insertIdentity(ctx: Ctx, row: IdentityRow): Promise<void> {
  await ctx.db.insertInto('sso_identities').values(row).execute();
}

export async function touchIdentity(
  ctx: Ctx,
  connectionId: string,
  subject: string,
  email: string,
  at: number,
): Promise<void> {
  await ctx.db
    .updateTable('sso_identities')
    .set({ email, last_sign_in_at: at })
    .where('connection_id', '=', connectionId)
    .where('subject', '=', subject)
    .execute();
}

export async function insertFlow(ctx: Ctx, row: FlowRow): Promise<void> {
  await ctx.db.insertInto('sso_flows').values(row).execute();
}

/**
 * Marks the flow used and returns it, if it was unused and unexpired: one statement, so two
 * callbacks with the same state (a replay, or a double submit) cannot both succeed.
 */
export async function consumeFlow(ctx: Ctx, state: string, now: number): Promise<FlowRow | undefined> {
  const result = await ctx.db
    .updateTable('sso_flows')
    .set({ consumed_at: now })
    .where('state', '=', state)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) return undefined;
  return ctx.db.selectFrom('sso_flows').selectAll().where('state', '=', state).executeTakeFirst();
}

/** A flow whatever its state, to say why it could not be consumed (used, or expired). */
export function selectFlow(ctx: Ctx, state: string): Promise<FlowRow | undefined> {
  return ctx.db.selectFrom('sso_flows').selectAll().where('state', '=', state).executeTakeFirst();
}

export async function deleteExpiredFlows(ctx: Ctx, now: number): Promise<number> {
  const result = await ctx.db.deleteFrom('sso_flows').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function insertRoleRule(ctx: Ctx, row: RoleRuleRow): Promise<void> {
  await ctx.db.insertInto('role_rules').values(row).execute();
}

export function selectRoleRules(ctx: Ctx, orgId: string): Promise<RoleRuleRow[]> {
  return ctx.db.selectFrom('role_rules').selectAll().where('org_id', '=', orgId).orderBy('id').execute();
}

export async function deleteRoleRule(ctx: Ctx, orgId: string, id: string): Promise<RoleRuleRow | undefined> {
  const row = await ctx.db
    .selectFrom('role_rules')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (row) await ctx.db.deleteFrom('role_rules').where('id', '=', id).execute();
  return row;
}

export async function updateDomainRouting(
  ctx: Ctx,
  id: string,
  patch: { connection_id: string | null; default_role: string },
): Promise<void> {
  await ctx.db.updateTable('sso_domains').set(patch).where('id', '=', id).execute();
}

/**
 * What the role-rule preview evaluates: the members whose role SSO manages (with the org's
 * default role), the groups their last sign-ins synced, and the org's domain claims.
 */
export async function selectSsoManagedMembers(ctx: Ctx, orgId: string) {
  const members = await ctx.db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .innerJoin('orgs as o', 'o.id', 'm.org_id')
    .select(['m.user_id', 'm.role', 'u.email', 'o.default_role'])
    .where('m.org_id', '=', orgId)
    .where('m.role_source', '=', 'sso')
    .execute();
  const groups = await ctx.db
    .selectFrom('group_members as gm')
    .innerJoin('groups as g', 'g.id', 'gm.group_id')
    .select(['gm.user_id', 'g.name', 'g.connection_id'])
    .where('g.org_id', '=', orgId)
    .where('g.source', '=', 'sso')
    .execute();
  const domains = await ctx.db
    .selectFrom('sso_domains')
    .select(['domain', 'default_role'])
    .where('org_id', '=', orgId)
    .execute();
  return { members, groups, domains };
}

/**
 * Remembers a SAML assertion id until it expires; false when it was already used (a replay),
 * decided by the primary key on every node alike.
 */
export async function recordSamlAssertion(
  ctx: Ctx,
  connectionId: string,
  assertionId: string,
  expiresAt: number,
): Promise<boolean> {
  const result = await ctx.db
    .insertInto('sso_saml_assertions')
    .values({ connection_id: connectionId, assertion_id: assertionId, expires_at: expiresAt })
    .onConflict((oc) => oc.columns(['connection_id', 'assertion_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function deleteExpiredSamlAssertions(ctx: Ctx, now: number): Promise<number> {
  const result = await ctx.db
    .deleteFrom('sso_saml_assertions')
    .where('expires_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Every SAML connection of every org: the metadata refresh walks them. */
export function selectSamlConnections(ctx: Ctx): Promise<ConnectionRow[]> {
  return ctx.db.selectFrom('sso_connections').selectAll().where('type', '=', 'saml').orderBy('id').execute();
}
