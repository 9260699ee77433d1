// Okta's SCIM 2.0 client against /scim/v2, request for request as Okta's SCIM 2.0 protocol
// reference describes it: look the person up by userName before creating them, POST the
// profile (with a password Okta generates and a groups list it leaves empty), replace it
// whole by PUT, deactivate and reactivate with a path-less PATCH, and push groups with their
// members inside POST and PUT as well as by PATCH add/remove. Each step is checked in its
// answer and again by reading the resource back, since Okta trusts what it reads next.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import {
  assertEmptyList,
  assertList,
  assertScim,
  assertScimError,
  etagOf,
  filterParam,
  GROUP_SCHEMA,
  lastMembershipChange,
  memberIds,
  membershipOf,
  patchOp,
  SCIM_BASE,
  type ScimClient,
  type ScimDoc,
  type ScimOrg,
  scimClient,
  setUpScimOrg,
  USER_SCHEMA,
} from '../helpers/scim.ts';

/** The body of Okta's "Create the user" request, for a person at `domain`. */
function oktaUser(local: string, domain: string, externalId: string): ScimDoc {
  return {
    schemas: [USER_SCHEMA],
    userName: `${local}@${domain}`,
    name: { givenName: 'Test', familyName: 'User' },
    emails: [{ primary: true, value: `${local}@${domain}`, type: 'work' }],
    displayName: 'Test User',
    locale: 'en-US',
    externalId,
    groups: [],
    password: '1mz050nq',
    active: true,
  };
}

/** Okta's lookup before it creates: by userName, first page of 100. */
function lookUp(client: ScimClient, userName: string) {
  return client.get(`Users?${filterParam(`userName eq "${userName}"`)}&startIndex=1&count=100`);
}

async function oktaSetUp(t: TestApp, slug: string): Promise<{ org: ScimOrg; okta: ScimClient }> {
  const org = await setUpScimOrg(t, slug, 'Okta');
  return { org, okta: scimClient(t, org.token) };
}

/** Creates a person as Okta does and returns the created resource. */
async function oktaCreate(okta: ScimClient, local: string, domain: string, externalId: string) {
  const res = await okta.post('Users', oktaUser(local, domain, externalId));
  return { res, user: assertScim(res, 201) };
}

describeEachBackend('SCIM as Okta provisions users', (get) => {
  it('answers the lookup for someone not yet provisioned with an empty ListResponse', async () => {
    const t = get();
    const { okta } = await oktaSetUp(t, 'okta-lookup');
    assertEmptyList(await lookUp(okta, 'test.user@okta-lookup.example'));
  });

  it("creates the user from Okta's body and answers the resource with Location and ETag", async () => {
    const t = get();
    const { org, okta } = await oktaSetUp(t, 'okta-create');
    const { res, user } = await oktaCreate(okta, 'test.user', 'okta-create.example', '00ujl29u0le5T6Aj10h7');
    assert.match(user.id, /^usr_/);
    assert.ok(user.schemas.includes(USER_SCHEMA), res.body);
    assert.equal(user.userName, 'test.user@okta-create.example');
    assert.equal(user.externalId, '00ujl29u0le5T6Aj10h7');
    assert.deepEqual(user.name, { givenName: 'Test', familyName: 'User' });
    assert.equal(user.displayName, 'Test User');
    assert.equal(user.locale, 'en-US');
    assert.deepEqual(user.emails, [{ primary: true, value: 'test.user@okta-create.example', type: 'work' }]);
    assert.equal(user.active, true);
    assert.deepEqual(user.groups, []);
    // Okta sends a generated password; Gatehouse users provisioned by an IdP sign in through it.
    assert.equal(user.password, undefined, 'the password is never returned');
    assert.equal(user.meta.resourceType, 'User');
    assert.equal(user.meta.location, `${SCIM_BASE}/Users/${user.id}`);
    assert.equal(res.headers.location, user.meta.location);
    assert.equal(etagOf(res), user.meta.version);
    assert.ok(!Number.isNaN(Date.parse(user.meta.created)), res.body);
    assert.ok(!Number.isNaN(Date.parse(user.meta.lastModified)), res.body);

    // Okta's next lookup finds the person it just made, so it never creates them twice.
    const found = assertList(await lookUp(okta, 'test.user@okta-create.example'));
    assert.equal(found.totalResults, 1);
    assert.equal(found.Resources[0]?.id, user.id);
    assert.equal(found.Resources[0]?.password, undefined);

    // The person is a member of the org, with the role SCIM gave them.
    const member = await membershipOf(t, org, user.id);
    assert.equal(member.email, 'test.user@okta-create.example');
    assert.equal(member.role_source, 'scim');
    assert.equal(await lastMembershipChange(t, org, user.id), undefined, 'never suspended');
  });

  it('reads the user back by id as it was created', async () => {
    const t = get();
    const { okta } = await oktaSetUp(t, 'okta-read');
    const { user } = await oktaCreate(okta, 'read.me', 'okta-read.example', '00uread');
    const res = await okta.get(`Users/${user.id}`);
    const read = assertScim(res, 200);
    assert.equal(read.id, user.id);
    assert.equal(read.userName, 'read.me@okta-read.example');
    assert.equal(read.externalId, '00uread');
    assert.deepEqual(read.name, { givenName: 'Test', familyName: 'User' });
    assert.deepEqual(read.emails, user.emails);
    assert.equal(read.active, true);
    assert.equal(read.password, undefined);
    assert.equal(read.meta.version, user.meta.version);
    assert.equal(etagOf(res), user.meta.version);
  });

  it("replaces the profile with Okta's full PUT and keeps the new one", async () => {
    const t = get();
    const { okta } = await oktaSetUp(t, 'okta-put');
    const { user } = await oktaCreate(okta, 'put.me', 'okta-put.example', '00uput');
    // Okta sends back everything it holds, id and meta included, with the changed fields.
    const body = {
      schemas: [USER_SCHEMA],
      id: user.id,
      userName: 'put.me@okta-put.example',
      name: { givenName: 'Another', middleName: 'M', familyName: 'User' },
      emails: [{ primary: true, value: 'put.me@okta-put.example', type: 'work' }],
      displayName: 'Another User',
      locale: 'en-GB',
      externalId: '00uput',
      active: true,
      groups: [],
      meta: { resourceType: 'User' },
    };
    t.clock.advance(60_000);
    const res = await okta.put(`Users/${user.id}`, body);
    const replaced = assertScim(res, 200);
    assert.equal(replaced.id, user.id);
    // Okta's incremental import reads meta.lastModified; created stays what it was.
    assert.equal(replaced.meta.created, user.meta.created);
    assert.equal(Date.parse(replaced.meta.lastModified) - Date.parse(user.meta.lastModified), 60_000);
    assert.deepEqual(replaced.name, { givenName: 'Another', middleName: 'M', familyName: 'User' });
    assert.equal(replaced.displayName, 'Another User');
    assert.equal(replaced.locale, 'en-GB');
    assert.equal(replaced.active, true);
    assert.notEqual(replaced.meta.version, user.meta.version, 'a new version');
    assert.equal(etagOf(res), replaced.meta.version);

    const read = assertScim(await okta.get(`Users/${user.id}`), 200);
    assert.deepEqual(read.name, { givenName: 'Another', middleName: 'M', familyName: 'User' });
    assert.equal(read.displayName, 'Another User');
    assert.equal(read.locale, 'en-GB');
    assert.equal(read.meta.version, replaced.meta.version);
    assert.equal(read.meta.lastModified, replaced.meta.lastModified);
  });

  it('a PUT that leaves an attribute out removes it', async () => {
    const t = get();
    const { okta } = await oktaSetUp(t, 'okta-put-drop');
    const { user } = await oktaCreate(okta, 'drop', 'okta-put-drop.example', '00udrop');
    const body = {
      schemas: [USER_SCHEMA],
      id: user.id,
      userName: 'drop@okta-put-drop.example',
      name: { givenName: 'Test', familyName: 'User' },
      emails: [{ primary: true, value: 'drop@okta-put-drop.example', type: 'work' }],
      externalId: '00udrop',
      active: true,
    };
    assertScim(await okta.put(`Users/${user.id}`, body), 200);
    const read = assertScim(await okta.get(`Users/${user.id}`), 200);
    assert.equal(read.locale, undefined, 'locale was not sent, so it is gone');
    assert.equal(read.displayName, undefined, 'displayName was not sent, so it is gone');
    assert.equal(read.userName, 'drop@okta-put-drop.example');
  });

  it('deactivates with a path-less replace, and reactivates the same way', async () => {
    const t = get();
    const { org, okta } = await oktaSetUp(t, 'okta-deact');
    const { user } = await oktaCreate(okta, 'leaver', 'okta-deact.example', '00uleaver');

    const off = await okta.patch(`Users/${user.id}`, patchOp({ op: 'replace', value: { active: false } }));
    const deactivated = assertScim(off, 200);
    assert.equal(deactivated.id, user.id);
    assert.equal(deactivated.active, false);
    assert.equal(deactivated.userName, 'leaver@okta-deact.example', 'the rest of the profile is kept');
    assert.equal(etagOf(off), deactivated.meta.version);
    const readOff = assertScim(await okta.get(`Users/${user.id}`), 200);
    assert.equal(readOff.active, false);
    assert.deepEqual(readOff.name, { givenName: 'Test', familyName: 'User' });
    assert.deepEqual(await lastMembershipChange(t, org, user.id), {
      action: 'member.suspended',
      actor: { kind: 'scim_token', id: org.tokenId },
    });
    // Okta's import reads deactivated users by filter too.
    const listed = assertList(await okta.get(`Users?${filterParam('active eq false')}`));
    assert.deepEqual(
      listed.Resources.map((r) => r.id),
      [user.id],
    );

    const on = await okta.patch(`Users/${user.id}`, patchOp({ op: 'replace', value: { active: true } }));
    assert.equal(assertScim(on, 200).active, true);
    assert.equal(assertScim(await okta.get(`Users/${user.id}`), 200).active, true);
    assert.deepEqual(await lastMembershipChange(t, org, user.id), {
      action: 'member.reactivated',
      actor: { kind: 'scim_token', id: org.tokenId },
    });
  });

  it("takes Okta's password sync PATCH without keeping or returning the password", async () => {
    const t = get();
    const { okta } = await oktaSetUp(t, 'okta-password');
    const { user } = await oktaCreate(okta, 'pw.sync', 'okta-password.example', '00upw');
    const res = await okta.patch(
      `Users/${user.id}`,
      patchOp({ op: 'replace', value: { password: 't1meMa$heen' } }),
    );
    const patched = assertScim(res, 200);
    assert.equal(patched.password, undefined, 'never returned');
    assert.equal(patched.active, true);
    assert.ok(!res.body.includes('t1meMa$heen'), 'the secret appears nowhere in the answer');
    const read = await okta.get(`Users/${user.id}`);
    assert.equal(assertScim(read, 200).password, undefined);
    assert.ok(!read.body.includes('t1meMa$heen'));
    const listed = await okta.get(`Users?${filterParam(`id eq "${user.id}"`)}`);
    assert.ok(!listed.body.includes('t1meMa$heen'));
    // The same with the attribute named in the path.
    const byPath = await okta.patch(
      `Users/${user.id}`,
      patchOp({ op: 'replace', path: 'password', value: 'an0ther$ecret' }),
    );
    assert.equal(assertScim(byPath, 200).password, undefined);
    const readAgain = await okta.get(`Users/${user.id}`);
    assert.ok(!readAgain.body.includes('an0ther$ecret'));
  });

  it('makes the account email the primary email, else the first, else the userName', async () => {
    const t = get();
    const { org, okta } = await oktaSetUp(t, 'okta-email');
    const base = oktaUser('unused', 'okta-email.example', '00uemail');
    const primaryLast = assertScim(
      await okta.post('Users', {
        ...base,
        userName: 'pat@okta-email.example',
        externalId: '00upat',
        emails: [
          { value: 'pat.home@okta-email.example', type: 'home' },
          { primary: true, value: 'pat.work@okta-email.example', type: 'work' },
        ],
      }),
      201,
    );
    assert.equal((await membershipOf(t, org, primaryLast.id)).email, 'pat.work@okta-email.example');
    const noPrimary = assertScim(
      await okta.post('Users', {
        ...base,
        userName: 'sam@okta-email.example',
        externalId: '00usam',
        emails: [
          { value: 'sam.first@okta-email.example', type: 'work' },
          { value: 'sam.second@okta-email.example', type: 'home' },
        ],
      }),
      201,
    );
    assert.equal((await membershipOf(t, org, noPrimary.id)).email, 'sam.first@okta-email.example');
    const { emails: _, ...withoutEmails } = base;
    const byUserName = assertScim(
      await okta.post('Users', {
        ...withoutEmails,
        userName: 'kit@okta-email.example',
        externalId: '00ukit',
      }),
      201,
    );
    assert.equal((await membershipOf(t, org, byUserName.id)).email, 'kit@okta-email.example');
  });

  it('deactivates by a PUT carrying active false', async () => {
    const t = get();
    const { org, okta } = await oktaSetUp(t, 'okta-put-off');
    const { user } = await oktaCreate(okta, 'putoff', 'okta-put-off.example', '00uputoff');
    const { password: _, ...profile } = oktaUser('putoff', 'okta-put-off.example', '00uputoff');
    const body = { ...profile, id: user.id, active: false };
    assert.equal(assertScim(await okta.put(`Users/${user.id}`, body), 200).active, false);
    assert.equal(assertScim(await okta.get(`Users/${user.id}`), 200).active, false);
    assert.equal((await lastMembershipChange(t, org, user.id))?.action, 'member.suspended');
  });
});

interface Person {
  readonly id: string;
  readonly userName: string;
}

describeEachBackend('SCIM as Okta pushes groups', (get) => {
  async function withPeople(t: TestApp, slug: string, count: number) {
    const { org, okta } = await oktaSetUp(t, slug);
    const people: Person[] = [];
    for (let i = 1; i <= count; i++) {
      const { user } = await oktaCreate(okta, `person${i}`, `${slug}.example`, `00u${i}`);
      people.push({ id: user.id, userName: user.userName });
    }
    return { org, okta, people };
  }

  it('creates a group with its members inside the POST', async () => {
    const t = get();
    const { okta, people } = await withPeople(t, 'okta-grp-create', 2);
    const [a, b] = people as [Person, Person];
    const res = await okta.post('Groups', {
      schemas: [GROUP_SCHEMA],
      displayName: 'Test SCIMv2',
      members: [
        { value: a.id, display: a.userName },
        { value: b.id, display: b.userName },
      ],
    });
    const group = assertScim(res, 201);
    assert.match(group.id, /^grp_/);
    assert.ok(group.schemas.includes(GROUP_SCHEMA), res.body);
    assert.equal(group.displayName, 'Test SCIMv2');
    assert.deepEqual(memberIds(group), [a.id, b.id].sort());
    for (const member of group.members) {
      assert.equal(typeof member.display, 'string', res.body);
      assert.equal(member.$ref, `${SCIM_BASE}/Users/${member.value}`);
    }
    assert.equal(group.meta.resourceType, 'Group');
    assert.equal(group.meta.location, `${SCIM_BASE}/Groups/${group.id}`);
    assert.equal(res.headers.location, group.meta.location);
    assert.equal(etagOf(res), group.meta.version);

    const read = assertScim(await okta.get(`Groups/${group.id}`), 200);
    assert.deepEqual(memberIds(read), [a.id, b.id].sort());
    // The user resource lists the group it is now in (readOnly `groups`, RFC 7643 §4.1.2).
    const user = assertScim(await okta.get(`Users/${a.id}`), 200);
    assert.deepEqual(
      user.groups.map((g: { value: string; display: string }) => ({ value: g.value, display: g.display })),
      [{ value: group.id, display: 'Test SCIMv2' }],
    );
  });

  it('replaces the member list with the one a PUT sends', async () => {
    const t = get();
    const { okta, people } = await withPeople(t, 'okta-grp-put', 3);
    const [a, b, c] = people as [Person, Person, Person];
    const created = assertScim(
      await okta.post('Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: 'Engineering',
        members: [{ value: a.id, display: a.userName }],
      }),
      201,
    );
    const res = await okta.put(`Groups/${created.id}`, {
      schemas: [GROUP_SCHEMA],
      id: created.id,
      displayName: 'Engineering',
      members: [
        { value: b.id, display: b.userName },
        { value: c.id, display: c.userName },
      ],
    });
    const replaced = assertScim(res, 200);
    assert.equal(replaced.id, created.id);
    assert.equal(replaced.displayName, 'Engineering');
    assert.deepEqual(memberIds(replaced), [b.id, c.id].sort(), 'a is out: the list sent is the list');
    assert.notEqual(replaced.meta.version, created.meta.version);
    assert.equal(etagOf(res), replaced.meta.version);
    const read = assertScim(await okta.get(`Groups/${created.id}`), 200);
    assert.deepEqual(memberIds(read), [b.id, c.id].sort());
    assert.deepEqual(assertScim(await okta.get(`Users/${a.id}`), 200).groups, []);
  });

  it('adds members by PATCH add and removes one by its value filter', async () => {
    const t = get();
    const { okta, people } = await withPeople(t, 'okta-grp-patch', 3);
    const [a, b, c] = people as [Person, Person, Person];
    const created = assertScim(
      await okta.post('Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: 'Sales',
        members: [{ value: a.id, display: a.userName }],
      }),
      201,
    );

    const added = await okta.patch(
      `Groups/${created.id}`,
      patchOp({
        op: 'add',
        path: 'members',
        value: [
          { value: b.id, display: b.userName },
          { value: c.id, display: c.userName },
        ],
      }),
    );
    assert.equal(added.statusCode, 204, added.body);
    assert.equal(added.body, '', 'no content');
    const addedTag = etagOf(added);
    assert.notEqual(addedTag, created.meta.version, 'the group has a new version');
    const afterAdd = assertScim(await okta.get(`Groups/${created.id}`), 200);
    assert.deepEqual(memberIds(afterAdd), [a.id, b.id, c.id].sort());
    assert.equal(afterAdd.meta.version, addedTag);

    const removed = await okta.patch(
      `Groups/${created.id}`,
      patchOp({ op: 'remove', path: `members[value eq "${b.id}"]` }),
    );
    assert.equal(removed.statusCode, 204, removed.body);
    assert.equal(removed.body, '');
    const afterRemove = assertScim(await okta.get(`Groups/${created.id}`), 200);
    assert.deepEqual(memberIds(afterRemove), [a.id, c.id].sort());
    assert.deepEqual(assertScim(await okta.get(`Users/${b.id}`), 200).groups, []);
  });

  it("renames a group with Okta's path-less replace that repeats the id", async () => {
    const t = get();
    const { okta, people } = await withPeople(t, 'okta-grp-rename', 1);
    const [a] = people as [Person];
    const created = assertScim(
      await okta.post('Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: 'Old Name',
        members: [{ value: a.id }],
      }),
      201,
    );
    const res = await okta.patch(
      `Groups/${created.id}`,
      patchOp({ op: 'replace', value: { id: created.id, displayName: 'New Name' } }),
    );
    assert.equal(res.statusCode, 204, res.body);
    const read = assertScim(await okta.get(`Groups/${created.id}`), 200);
    assert.equal(read.id, created.id);
    assert.equal(read.displayName, 'New Name');
    assert.deepEqual(memberIds(read), [a.id], 'a rename leaves the members alone');
  });

  it('finds a group by displayName, and lists groups without their members when asked', async () => {
    const t = get();
    const { okta, people } = await withPeople(t, 'okta-grp-list', 1);
    const [a] = people as [Person];
    const target = assertScim(
      await okta.post('Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: 'Support',
        members: [{ value: a.id }],
      }),
      201,
    );
    assertScim(await okta.post('Groups', { schemas: [GROUP_SCHEMA], displayName: 'Finance' }), 201);

    const found = assertList(
      await okta.get(`Groups?${filterParam('displayName eq "Support"')}&startIndex=1&count=100`),
    );
    assert.equal(found.totalResults, 1);
    assert.equal(found.Resources[0]?.id, target.id);
    assert.equal(found.Resources[0]?.displayName, 'Support');
    assertEmptyList(await okta.get(`Groups?${filterParam('displayName eq "Nobody Here"')}`));

    const slim = assertList(await okta.get('Groups?excludedAttributes=members&startIndex=1&count=100'));
    assert.equal(slim.totalResults, 2);
    assert.deepEqual(slim.Resources.map((g) => g.displayName).sort(), ['Finance', 'Support']);
    for (const group of slim.Resources) {
      assert.equal(group.members, undefined, `members left out: ${JSON.stringify(group)}`);
      assert.match(group.id, /^grp_/);
    }
    // Without excludedAttributes the members are there.
    const full = assertList(await okta.get(`Groups?${filterParam('displayName eq "Support"')}`));
    assert.deepEqual(memberIds(full.Resources[0] as ScimDoc), [a.id]);
  });

  it('deletes a group: 204, then 404, and its members no longer list it', async () => {
    const t = get();
    const { okta, people } = await withPeople(t, 'okta-grp-del', 1);
    const [a] = people as [Person];
    const created = assertScim(
      await okta.post('Groups', { schemas: [GROUP_SCHEMA], displayName: 'Temp', members: [{ value: a.id }] }),
      201,
    );
    const res = await okta.delete(`Groups/${created.id}`);
    assert.equal(res.statusCode, 204, res.body);
    assert.equal(res.body, '');
    assertScimError(await okta.get(`Groups/${created.id}`), 404);
    assertEmptyList(await okta.get(`Groups?${filterParam('displayName eq "Temp"')}`));
    assert.deepEqual(assertScim(await okta.get(`Users/${a.id}`), 200).groups, []);
    // The person stays provisioned: deleting a group is not deprovisioning its members.
    assert.equal(assertScim(await okta.get(`Users/${a.id}`), 200).active, true);
    // The name is free again for the group Okta pushes next.
    const again = assertScim(
      await okta.post('Groups', { schemas: [GROUP_SCHEMA], displayName: 'Temp' }),
      201,
    );
    assert.notEqual(again.id, created.id);
  });

  it('finds a group whose name has characters that need encoding', async () => {
    const t = get();
    const { okta } = await oktaSetUp(t, 'okta-grp-chars');
    const id = assertScim(
      await okta.post('Groups', { schemas: [GROUP_SCHEMA], displayName: 'R&D / Ops+QA' }),
      201,
    ).id;
    const found = assertList(await okta.get(`Groups?${filterParam('displayName eq "R&D / Ops+QA"')}`));
    assert.deepEqual(
      found.Resources.map((g) => g.id),
      [id],
    );
    assert.equal(found.Resources[0]?.displayName, 'R&D / Ops+QA');
  });

  it('adds a member who is already in the group without listing them twice', async () => {
    const t = get();
    const { okta, people } = await withPeople(t, 'okta-grp-idem', 1);
    const [a] = people as [Person];
    const created = assertScim(
      await okta.post('Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: 'Again',
        members: [{ value: a.id }],
      }),
      201,
    );
    const res = await okta.patch(
      `Groups/${created.id}`,
      patchOp({ op: 'add', path: 'members', value: [{ value: a.id, display: a.userName }] }),
    );
    assert.equal(res.statusCode, 204, res.body);
    const read = assertScim(await okta.get(`Groups/${created.id}`), 200);
    assert.deepEqual(
      read.members.map((m: { value: string }) => m.value),
      [a.id],
    );
    assert.equal(assertScim(await okta.get(`Users/${a.id}`), 200).groups.length, 1);
  });
});
