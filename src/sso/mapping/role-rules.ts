// Group → role rules (SPEC §3): each rule maps a group, or a value of a named claim, to a
// role; the highest role among the matching rules wins, and with no match the default
// applies. Pure, so the evaluation, the role explanation and the preview share one function.
import { type Role, roleAtLeast } from '../../authz/index.ts';

export interface RoleRule {
  readonly id: string;
  /** Undefined: the rule applies to sign-ins through any of the org's connections. */
  readonly connectionId: string | undefined;
  readonly matchKind: 'group' | 'claim';
  readonly claim: string | undefined;
  readonly value: string;
  readonly role: Role;
}

export interface SignInFacts {
  readonly connectionId: string;
  readonly groups: readonly string[];
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Why a member has their role: the rule and the group (or claim value) that decided it, or the default. */
export type RoleDecision =
  | { readonly role: Role; readonly source: 'rule'; readonly ruleId: string; readonly matched: string }
  | { readonly role: Role; readonly source: 'default' };

function claimValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' || typeof value === 'boolean') return [String(value)];
  if (Array.isArray(value)) return value.flatMap(claimValues);
  return [];
}

/** Whether the rule matches, and the group or claim value it matched on. */
export function ruleMatch(rule: RoleRule, facts: SignInFacts): string | undefined {
  if (rule.connectionId !== undefined && rule.connectionId !== facts.connectionId) return undefined;
  // Group names compare case-insensitively: IdPs differ in how they case them.
  const wanted = rule.value.toLowerCase();
  const candidates = rule.matchKind === 'group' ? facts.groups : claimValues(facts.claims[rule.claim ?? '']);
  return candidates.find((c) => c.toLowerCase() === wanted);
}

export function decideRole(rules: readonly RoleRule[], facts: SignInFacts, defaultRole: Role): RoleDecision {
  let best: { rule: RoleRule; matched: string } | undefined;
  for (const rule of rules) {
    const matched = ruleMatch(rule, facts);
    if (matched === undefined) continue;
    // Ties keep the earlier rule, so the explanation is stable.
    if (!best || (roleAtLeast(rule.role, best.rule.role) && rule.role !== best.rule.role))
      best = { rule, matched };
  }
  if (!best) return { role: defaultRole, source: 'default' };
  return { role: best.rule.role, source: 'rule', ruleId: best.rule.id, matched: best.matched };
}

/** Groups as IdPs send them: a list of strings, or a single string; anything else is no groups. */
export function groupsFromClaim(value: unknown): string[] {
  const values = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const seen = new Set<string>();
  const groups: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const name = v.trim();
    if (name === '' || name.length > 256 || seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    groups.push(name);
  }
  return groups;
}
