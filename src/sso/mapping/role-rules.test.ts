import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideRole, groupsFromClaim, type RoleRule } from './role-rules.ts';

const rule = (
  id: string,
  value: string,
  role: RoleRule['role'],
  extra: Partial<RoleRule> = {},
): RoleRule => ({
  id,
  connectionId: undefined,
  matchKind: 'group',
  claim: undefined,
  value,
  role,
  ...extra,
});

const facts = (groups: string[], claims: Record<string, unknown> = {}, connectionId = 'ssc_a') => ({
  connectionId,
  groups,
  claims,
});

describe('role rules', () => {
  const rules = [
    rule('r1', 'contractors', 'viewer'),
    rule('r2', 'gatehouse-admins', 'admin'),
    rule('r3', 'staff', 'user'),
  ];

  it('gives the highest role among the matching rules, with the rule and group that decided it', () => {
    assert.deepEqual(decideRole(rules, facts(['contractors', 'gatehouse-admins']), 'user'), {
      role: 'admin',
      source: 'rule',
      ruleId: 'r2',
      matched: 'gatehouse-admins',
    });
  });

  it('falls back to the default role when nothing matches', () => {
    assert.deepEqual(decideRole(rules, facts(['everyone']), 'viewer'), { role: 'viewer', source: 'default' });
  });

  it('gives a lower role than the default when a rule says so', () => {
    assert.equal(decideRole(rules, facts(['contractors']), 'user').role, 'viewer');
  });

  it('compares group names without regard to case', () => {
    assert.equal(decideRole(rules, facts(['Gatehouse-Admins']), 'user').role, 'admin');
  });

  it('keeps the earlier rule on a tie, so the explanation is stable', () => {
    const tied = [rule('a', 'x', 'user'), rule('b', 'y', 'user')];
    const decision = decideRole(tied, facts(['y', 'x']), 'viewer');
    assert.equal(decision.source === 'rule' && decision.ruleId, 'a');
  });

  it('applies a connection-bound rule only to sign-ins through that connection', () => {
    const bound = [rule('r', 'admins', 'admin', { connectionId: 'ssc_b' })];
    assert.equal(decideRole(bound, facts(['admins'], {}, 'ssc_a'), 'user').role, 'user');
    assert.equal(decideRole(bound, facts(['admins'], {}, 'ssc_b'), 'user').role, 'admin');
  });

  it('matches claim rules on string, array and boolean claim values', () => {
    const claimRules = [rule('c', 'engineering', 'admin', { matchKind: 'claim', claim: 'department' })];
    assert.equal(decideRole(claimRules, facts([], { department: 'Engineering' }), 'user').role, 'admin');
    assert.equal(
      decideRole(claimRules, facts([], { department: ['sales', 'engineering'] }), 'user').role,
      'admin',
    );
    assert.equal(
      decideRole(claimRules, facts([], { department: { nested: 'engineering' } }), 'user').role,
      'user',
    );
    assert.equal(
      decideRole(claimRules, facts(['engineering']), 'user').role,
      'user',
      'a claim rule ignores groups',
    );
  });
});

describe('groups from a claim', () => {
  it('takes a list or a single string, trims, drops blanks, non-strings and case-insensitive duplicates', () => {
    assert.deepEqual(groupsFromClaim([' admins ', 'Admins', '', 7, 'staff']), ['admins', 'staff']);
    assert.deepEqual(groupsFromClaim('solo'), ['solo']);
    assert.deepEqual(groupsFromClaim(undefined), []);
    assert.deepEqual(groupsFromClaim({ a: 1 }), []);
  });
});
