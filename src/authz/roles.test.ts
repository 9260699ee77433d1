// The role → permission matrix and decide(): pure, so checked exhaustively here.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../core/context.ts';
import { decideByCredential, decideInOrg, decideSelf } from './decide.ts';
import {
  highestRole,
  isPermission,
  isReadPermission,
  isRole,
  matrix,
  type OrgPermission,
  orgPermissions,
  type Permission,
  roleAtLeast,
  roles,
  selfPermissions,
} from './roles.ts';

const person: Principal = { kind: 'user', id: 'usr_00000000000000000000000000', authMethod: 'password' };
const allPermissions: readonly Permission[] = [...orgPermissions, ...selfPermissions];

function allowedInOrg(principal: Principal, role: (typeof roles)[number]): OrgPermission[] {
  return orgPermissions.filter((p) => decideInOrg(principal, role, p).allowed);
}

describe('role matrix', () => {
  it('gives admin every org permission', () => {
    assert.deepEqual([...matrix.admin].sort(), [...orgPermissions].sort());
  });

  it('orders the roles: viewer is a subset of user, user a subset of admin', () => {
    for (const p of matrix.viewer) assert.ok(matrix.user.has(p), `user lacks viewer's ${p}`);
    for (const p of matrix.user) assert.ok(matrix.admin.has(p), `admin lacks user's ${p}`);
    assert.ok(matrix.user.size > matrix.viewer.size, 'user may do more than viewer');
    assert.ok(matrix.admin.size > matrix.user.size, 'admin may do more than user');
  });

  it('keeps admin-only permissions (SPEC §1) away from user and viewer', () => {
    const adminOnly: OrgPermission[] = [
      'audit:read',
      'sso:read',
      'sso:write',
      'scim:write',
      'connectors:write',
      'connectors:use',
      'settings:write',
      'members:write',
      'apikeys:all',
      'sessions:all',
      'service_accounts:write',
    ];
    for (const p of adminOnly) {
      assert.ok(!matrix.user.has(p), `user has ${p}`);
      assert.ok(!matrix.viewer.has(p), `viewer has ${p}`);
    }
  });

  it('lets user write projects and manage own keys, and viewer only read projects', () => {
    assert.ok(matrix.user.has('projects:write'));
    assert.ok(matrix.user.has('apikeys:own'));
    assert.ok(matrix.viewer.has('projects:read'));
    assert.ok(!matrix.viewer.has('projects:write'));
  });

  it('holds only org permissions in the matrix, never self ones', () => {
    for (const role of roles) {
      for (const p of matrix[role]) assert.ok((orgPermissions as readonly string[]).includes(p), p);
    }
  });

  it('decides in an org exactly as the matrix says for an unrestricted principal', () => {
    for (const role of roles) {
      for (const p of orgPermissions) {
        const decision = decideInOrg(person, role, p);
        assert.equal(decision.allowed, matrix[role].has(p), `${role} ${p}`);
        if (!decision.allowed) assert.equal(decision.reason, 'role');
      }
    }
  });
});

describe('credential narrowing', () => {
  const readOnly: Principal = { ...person, readOnly: true };

  it('leaves a read-only principal only read permissions, whatever its role', () => {
    for (const role of roles) {
      for (const p of orgPermissions) {
        const decision = decideInOrg(readOnly, role, p);
        assert.equal(decision.allowed, matrix[role].has(p) && isReadPermission(p), `${role} ${p}`);
        if (matrix[role].has(p) && !isReadPermission(p)) {
          assert.deepEqual(decision, { allowed: false, reason: 'read_only' });
        }
      }
    }
    assert.ok(decideSelf(readOnly, 'profile:own').allowed, 'reads own profile');
    assert.ok(!decideSelf(readOnly, 'orgs:create').allowed, 'creates no org');
  });

  it('counts no writing, creating or administering permission as a read', () => {
    for (const p of allPermissions) {
      if (/:(write|all)$/.test(p) || p === 'orgs:create' || p === 'apikeys:own') {
        assert.ok(!isReadPermission(p), `${p} is not a read`);
      }
    }
    for (const p of allPermissions) if (p.endsWith(':read')) assert.ok(isReadPermission(p), p);
  });

  it('narrows to the scopes a token carries and never widens past the role', () => {
    const scoped: Principal = { ...person, scopes: ['projects:read', 'audit:read'] };
    assert.deepEqual(allowedInOrg(scoped, 'admin').sort(), ['audit:read', 'projects:read']);
    assert.deepEqual(allowedInOrg(scoped, 'viewer'), ['projects:read'], 'audit:read needs admin');
    assert.deepEqual(decideInOrg(scoped, 'admin', 'org:write'), { allowed: false, reason: 'scope' });
    assert.deepEqual(decideInOrg(scoped, 'viewer', 'audit:read'), { allowed: false, reason: 'role' });
    assert.deepEqual(decideSelf(scoped, 'profile:own'), { allowed: false, reason: 'scope' });
  });

  it('decides by the credential alone, before any role, as the org decision narrows it', () => {
    const scoped: Principal = { ...person, scopes: ['projects:read'] };
    assert.deepEqual(decideByCredential(scoped, 'projects:read'), { allowed: true });
    assert.deepEqual(decideByCredential(scoped, 'audit:read'), { allowed: false, reason: 'scope' });
    assert.deepEqual(decideByCredential(readOnly, 'projects:write'), { allowed: false, reason: 'read_only' });
    // No role in it: an unscoped credential may ask for anything; the role decides later.
    for (const p of allPermissions) assert.ok(decideByCredential(person, p).allowed, p);
  });

  it('allows nothing with an empty scope list', () => {
    const none: Principal = { ...person, scopes: [] };
    assert.deepEqual(allowedInOrg(none, 'admin'), []);
    for (const p of selfPermissions) {
      if (p !== 'authz:check') assert.equal(decideSelf(none, p).allowed, false, p);
    }
  });

  it('lets every principal ask forward auth who it is, whatever its scopes or read-only flag', () => {
    for (const principal of [person, { ...person, scopes: [] }, { ...person, readOnly: true }]) {
      assert.deepEqual(decideSelf(principal, 'authz:check'), { allowed: true });
    }
  });

  it('lets a person create an org', () => {
    assert.deepEqual(decideSelf(person, 'orgs:create'), { allowed: true });
  });

  it('refuses orgs:create to a service account', () => {
    const serviceAccount: Principal = {
      kind: 'service_account',
      id: 'sac_00000000000000000000000000',
      authMethod: 'api_key',
      orgRestriction: 'org_00000000000000000000000000',
    };
    assert.deepEqual(decideSelf(serviceAccount, 'orgs:create'), {
      allowed: false,
      reason: 'principal_kind',
    });
    const { orgRestriction: _, ...unrestricted } = serviceAccount;
    assert.equal(decideSelf(unrestricted, 'orgs:create').allowed, false);
  });

  it('refuses orgs:create to a credential restricted to one org, but keeps its other self permissions', () => {
    const restricted: Principal = { ...person, orgRestriction: 'org_00000000000000000000000000' };
    assert.deepEqual(decideSelf(restricted, 'orgs:create'), { allowed: false, reason: 'principal_kind' });
    assert.ok(decideSelf(restricted, 'profile:own').allowed);
    assert.ok(decideSelf(restricted, 'sessions:own').allowed);
  });
});

describe('role helpers', () => {
  it('ranks admin above user above viewer', () => {
    assert.equal(highestRole(['viewer', 'admin', 'user']), 'admin');
    assert.equal(highestRole(['viewer', 'user']), 'user');
    assert.equal(highestRole([]), undefined);
    assert.ok(roleAtLeast('admin', 'user'));
    assert.ok(roleAtLeast('user', 'user'));
    assert.ok(!roleAtLeast('viewer', 'user'));
  });

  it('recognises roles and permission names and nothing else', () => {
    for (const r of roles) assert.ok(isRole(r));
    for (const bad of ['Admin', 'owner', '', undefined, 3]) assert.ok(!isRole(bad), String(bad));
    for (const p of allPermissions) assert.ok(isPermission(p), p);
    for (const bad of ['public', 'projects:delete', 'PROJECTS:READ', '']) assert.ok(!isPermission(bad), bad);
  });
});
