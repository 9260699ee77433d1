// The org's role rules as admins manage them (SPEC §3): list, add, remove, and a preview of
// what a proposed rule set would do to the members whose role SSO manages, computed from the
// groups their last sign-in synced. Every change is audited.
import type { AuditService } from '../../audit/index.ts';
import { isRole, type Role } from '../../authz/index.ts';
import { isoTime } from '../../core/clock.ts';
import { GatehouseError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import { type Ctx, withTx } from '../../db/index.ts';
import { ssoErrors } from '../errors.ts';
import * as store from '../store.ts';
import { emailDomain } from './domains.ts';
import { decideRole, type RoleRule } from './role-rules.ts';

export interface RoleRuleView {
  id: string;
  connection_id: string | null;
  match: 'group' | 'claim';
  claim: string | null;
  value: string;
  role: Role;
  created_at: string;
}

export interface NewRoleRule {
  connection_id?: string | null;
  match: 'group' | 'claim';
  claim?: string;
  value: string;
  role: Role;
}

export function toRoleRule(row: store.RoleRuleRow): RoleRule {
  return {
    id: row.id,
    connectionId: row.connection_id ?? undefined,
    matchKind: row.match_kind === 'claim' ? 'claim' : 'group',
    claim: row.claim ?? undefined,
    value: row.value,
    role: isRole(row.role) ? row.role : 'viewer',
  };
}

function toView(row: store.RoleRuleRow): RoleRuleView {
  const rule = toRoleRule(row);
  return {
    id: rule.id,
    connection_id: row.connection_id,
    match: rule.matchKind,
    claim: row.claim,
    value: rule.value,
    role: rule.role,
    created_at: isoTime(row.created_at),
  };
}

function checkRule(input: NewRoleRule): void {
  if ((input.match === 'claim') !== (input.claim !== undefined && input.claim !== ''))
    throw new GatehouseError(ssoErrors.ruleInvalid, { field: 'claim' });
}

export function createRuleSetFunctions(deps: { audit: AuditService }) {
  async function listRules(ctx: Ctx, orgId: string): Promise<RoleRuleView[]> {
    return (await store.selectRoleRules(ctx, orgId)).map(toView);
  }

  async function loadRules(ctx: Ctx, orgId: string): Promise<RoleRule[]> {
    return (await store.selectRoleRules(ctx, orgId)).map(toRoleRule);
  }

  async function createRule(ctx: Ctx, orgId: string, input: NewRoleRule): Promise<RoleRuleView> {
    checkRule(input);
    return withTx(ctx, async (tx) => {
      if (input.connection_id && !(await store.selectConnection(tx, orgId, input.connection_id)))
        throw new GatehouseError(ssoErrors.connectionNotFound, { field: 'connection_id' });
      const now = tx.clock.now();
      const row: store.RoleRuleRow = {
        id: newId('rrl', now),
        org_id: orgId,
        connection_id: input.connection_id ?? null,
        match_kind: input.match,
        claim: input.match === 'claim' ? (input.claim ?? null) : null,
        value: input.value.trim(),
        role: input.role,
        created_at: now,
      };
      await store.insertRoleRule(tx, row);
      await deps.audit.append(tx, {
        orgId,
        action: 'role_rule.created',
        target: { kind: 'role_rule', id: row.id },
        data: {
          match: row.match_kind,
          claim: row.claim,
          value: row.value,
          role: row.role,
          connection_id: row.connection_id,
        },
      });
      return toView(row);
    });
  }

  async function deleteRule(ctx: Ctx, orgId: string, id: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const row = await store.deleteRoleRule(tx, orgId, id);
      if (!row) throw new GatehouseError(ssoErrors.ruleNotFound, { field: 'rule_id' });
      await deps.audit.append(tx, {
        orgId,
        action: 'role_rule.deleted',
        target: { kind: 'role_rule', id },
        data: { match: row.match_kind, claim: row.claim, value: row.value, role: row.role },
      });
    });
  }

  /**
   * Who would gain or lose which role under `proposed`, for the members whose role SSO
   * manages (pinned roles are left alone). Uses the groups synced at each member's last SSO
   * sign-in; claim rules see no claims here, since claims are not stored.
   */
  async function previewRules(ctx: Ctx, orgId: string, proposed: readonly NewRoleRule[]) {
    proposed.forEach(checkRule);
    const rules: RoleRule[] = proposed.map((p, i) => ({
      id: `proposed_${i}`,
      connectionId: p.connection_id ?? undefined,
      matchKind: p.match,
      claim: p.claim,
      value: p.value,
      role: p.role,
    }));
    const { members, groups, domains } = await store.selectSsoManagedMembers(ctx, orgId);
    const changes: {
      user_id: string;
      email: string;
      from: Role;
      to: Role;
      rule: string | null;
      matched: string | null;
    }[] = [];
    for (const member of members) {
      const own = groups.filter((g) => g.user_id === member.user_id);
      const domain = emailDomain(member.email);
      // The same default as at sign-in: the member's domain claim's role, else the org's.
      const claimed = domains.find((d) => d.domain === domain)?.default_role;
      const fallback = isRole(claimed) ? claimed : isRole(member.default_role) ? member.default_role : 'user';
      const decision = decideRole(
        rules,
        { connectionId: own[0]?.connection_id ?? '', groups: own.map((g) => g.name), claims: {} },
        fallback,
      );
      const from = isRole(member.role) ? member.role : 'viewer';
      if (decision.role === from) continue;
      changes.push({
        user_id: member.user_id,
        email: member.email,
        from,
        to: decision.role,
        rule: decision.source === 'rule' ? decision.ruleId : null,
        matched: decision.source === 'rule' ? decision.matched : null,
      });
    }
    return { evaluated: members.length, changes };
  }

  return { listRules, loadRules, createRule, deleteRule, previewRules };
}
