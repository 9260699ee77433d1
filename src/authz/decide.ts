// decide(): may this principal, holding this role in the target org, do this? Pure. The
// role comes from the live membership; the credential can only narrow it (read-only keys,
// OAuth scopes), never widen it (SPEC §2).
import type { Principal } from '../core/context.ts';
import { isReadPermission, matrix, type OrgPermission, type Role, type SelfPermission } from './roles.ts';

export type Decision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reason: 'role' | 'read_only' | 'scope' | 'principal_kind' };

const ALLOW: Decision = Object.freeze({ allowed: true });

/**
 * What the credential alone allows, before any role is looked up: a read-only key keeps the
 * read permissions, OAuth scopes keep the permissions they name. Lets a surface refuse a
 * token that lacks a scope without an org (the MCP server answers 403 insufficient_scope
 * before it runs a tool, RFC 6750 §3.1).
 */
export function decideByCredential(
  principal: Principal,
  permission: OrgPermission | SelfPermission,
): Decision {
  if (principal.readOnly && !isReadPermission(permission)) return { allowed: false, reason: 'read_only' };
  if (principal.scopes !== undefined && !principal.scopes.includes(permission)) {
    return { allowed: false, reason: 'scope' };
  }
  return ALLOW;
}

export function decideInOrg(principal: Principal, role: Role, permission: OrgPermission): Decision {
  if (!matrix[role].has(permission)) return { allowed: false, reason: 'role' };
  return decideByCredential(principal, permission);
}

export function decideSelf(principal: Principal, permission: SelfPermission): Decision {
  // Forward auth reports who the caller is; the permission it is asked about (?permission=)
  // is then decided in the org with decideInOrg, scopes and read-only flag included.
  if (permission === 'authz:check') return ALLOW;
  // Creating an org makes the caller its admin: only people may do that, not service accounts.
  if (permission === 'orgs:create' && (principal.kind !== 'user' || principal.orgRestriction !== undefined)) {
    return { allowed: false, reason: 'principal_kind' };
  }
  // A profile is a person's; a service account has none to edit.
  if (permission === 'profile:write' && principal.kind !== 'user')
    return { allowed: false, reason: 'principal_kind' };
  return decideByCredential(principal, permission);
}
