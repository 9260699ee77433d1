// Every way a SCIM request is refused (RFC 7644 §3.12, SPEC §5 and §11), each in the SCIM error
// schema with the scimType an IdP's console shows, and each leaving nothing changed behind
// it: filters that do not parse or name what is not indexed, PATCH paths that name nothing or
// what the server owns, credentials that are missing, malformed, revoked, expired, of the
// wrong kind or of another org, bodies that are not JSON or too large, names already taken,
// members from outside the org, stale If-Match versions and unknown ids. Also the list
// controls an IdP's import relies on: stable, non-overlapping pages, the page size cap,
// meta.lastModified filters and attribute projection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKey, withKey } from '../helpers/api-keys.ts';
import { asBrowser, createTestApp, type TestApp } from '../helpers/app.ts';
import { backendKinds } from '../helpers/backends.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import {
  assertEmptyList,
  assertList,
  assertScim,
  assertScimError,
  assertUnauthorized,
  ENTERPRISE_SCHEMA,
  etagOf,
  filterParam,
  GROUP_SCHEMA,
  memberIds,
  patchOp,
  plainUser,
  provisionUser,
  type ScimClient,
  scimClient,
  setUpScimOrg,
  USER_SCHEMA,
} from '../helpers/scim.ts';

/** Well-formed ids that name nothing. */
const NO_USER = 'usr_0000000000aaaaaaaaaaaaaaaa';
const NO_GROUP = 'grp_0000000000aaaaaaaaaaaaaaaa';

async function scimSetUp(t: TestApp, slug: string) {
  const org = await setUpScimOrg(t, slug);
  return { org, scim: scimClient(t, org.token) };
}

async function createGroup(scim: ScimClient, displayName: string, members: string[] = []) {
  const group = assertScim(
    await scim.post('Groups', {
      schemas: [GROUP_SCHEMA],
      displayName,
      members: members.map((value) => ({ value })),
    }),
    201,
  );
  return group.id as string;
}

describeEachBackend('SCIM refuses bad filters and paths', (get) => {
  it('refuses a filter that is not SCIM filter syntax with invalidFilter', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-filter-syntax');
    await provisionUser(scim, 'kim@err-filter-syntax.example');
    for (const filter of [
      'userName eq',
      'userName eq "unterminated',
      'userName equals "kim@err-filter-syntax.example"',
      '(userName eq "kim@err-filter-syntax.example"',
      'userName eq "kim@err-filter-syntax.example" and',
      'eq "kim@err-filter-syntax.example"',
    ]) {
      const users = await scim.get(`Users?${filterParam(filter)}`);
      assertScimError(users, 400, 'invalidFilter');
      assertScimError(
        await scim.get(`Groups?${filterParam(filter.replace('userName', 'displayName'))}`),
        400,
        'invalidFilter',
      );
    }
    // The same filter, well formed, is answered: the refusals above are about syntax alone.
    assert.equal(
      assertList(await scim.get(`Users?${filterParam('userName eq "kim@err-filter-syntax.example"')}`))
        .totalResults,
      1,
    );
  });

  it('refuses a filter on an attribute it does not index or does not have with invalidFilter', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-filter-attr');
    await provisionUser(scim, 'lou@err-filter-attr.example', { nickName: 'Lou', title: 'Engineer' });
    // nickName, title and name.givenName exist but are not indexed; shoeSize does not exist.
    for (const filter of [
      'nickName eq "Lou"',
      'title eq "Engineer"',
      'name.givenName eq "Robin"',
      'shoeSize eq "44"',
      `${ENTERPRISE_SCHEMA}:department eq "Retail"`,
      'userName eq "lou@err-filter-attr.example" or title eq "Engineer"',
    ]) {
      const res = await scim.get(`Users?${filterParam(filter)}`);
      const body = assertScimError(res, 400, 'invalidFilter');
      assert.ok(!/at .*\.ts:\d+/.test(body.detail), `no stack trace: ${body.detail}`);
    }
    for (const filter of ['owner eq "x"', 'members.display eq "Lou"']) {
      assertScimError(await scim.get(`Groups?${filterParam(filter)}`), 400, 'invalidFilter');
    }
    // What is indexed is answered.
    assert.equal(assertList(await scim.get(`Users?${filterParam('displayName pr')}`)).totalResults, 0);
  });

  it('refuses a PATCH path naming an attribute the resource does not have with invalidPath, changing nothing', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-path');
    const id = await provisionUser(scim, 'max@err-path.example', { displayName: 'Max' });
    const before = assertScim(await scim.get(`Users/${id}`), 200);
    for (const path of [
      'favouriteColour',
      'name.nickname',
      `${ENTERPRISE_SCHEMA}:shoeSize`,
      'emails[type eq "work"].colour',
      'shoeSizes[type eq "left"].value',
    ]) {
      const res = await scim.patch(`Users/${id}`, patchOp({ op: 'replace', path, value: 'x' }));
      assertScimError(res, 400, 'invalidPath');
    }
    // A bad operation refuses the whole request: the good one before it is not applied either.
    const mixed = await scim.patch(
      `Users/${id}`,
      patchOp(
        { op: 'replace', path: 'displayName', value: 'Changed' },
        { op: 'add', path: 'favouriteColour', value: 'green' },
      ),
    );
    assertScimError(mixed, 400, 'invalidPath');
    const after = assertScim(await scim.get(`Users/${id}`), 200);
    assert.equal(after.displayName, 'Max');
    assert.equal(after.favouriteColour, undefined);
    assert.equal(after.meta.version, before.meta.version, 'no new version');

    const groupId = await createGroup(scim, 'Pathless', [id]);
    const groupBefore = assertScim(await scim.get(`Groups/${groupId}`), 200);
    assertScimError(
      await scim.patch(`Groups/${groupId}`, patchOp({ op: 'replace', path: 'owner', value: 'x' })),
      400,
      'invalidPath',
    );
    const groupAfter = assertScim(await scim.get(`Groups/${groupId}`), 200);
    assert.equal(groupAfter.meta.version, groupBefore.meta.version);
    assert.deepEqual(memberIds(groupAfter), [id]);
  });

  it('refuses a remove without a path with noTarget, and a change to id or meta with mutability', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-mutability');
    const id = await provisionUser(scim, 'nia@err-mutability.example');
    const before = assertScim(await scim.get(`Users/${id}`), 200);
    assertScimError(await scim.patch(`Users/${id}`, patchOp({ op: 'remove' })), 400, 'noTarget');
    for (const path of ['id', 'meta.created', 'meta']) {
      assertScimError(
        await scim.patch(`Users/${id}`, patchOp({ op: 'replace', path, value: 'usr_forged' })),
        400,
        'mutability',
      );
    }
    const after = assertScim(await scim.get(`Users/${id}`), 200);
    assert.equal(after.id, id);
    assert.equal(after.meta.created, before.meta.created);
    assert.equal(after.meta.version, before.meta.version);
  });

  it("refuses a PATCH of a User's readOnly groups with mutability: membership is changed on the Group", async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-ro-groups');
    const id = await provisionUser(scim, 'oli@err-ro-groups.example');
    const groupId = await createGroup(scim, 'Not This Way');
    const before = assertScim(await scim.get(`Users/${id}`), 200);
    // RFC 7644 §3.5.2: an operation incompatible with the attribute's mutability is refused.
    assertScimError(
      await scim.patch(`Users/${id}`, patchOp({ op: 'add', path: 'groups', value: [{ value: groupId }] })),
      400,
      'mutability',
    );
    const after = assertScim(await scim.get(`Users/${id}`), 200);
    assert.deepEqual(after.groups, []);
    assert.equal(after.meta.version, before.meta.version, 'no new version');
    assert.deepEqual(memberIds(assertScim(await scim.get(`Groups/${groupId}`), 200)), []);
  });
});

describeEachBackend('SCIM refuses callers without a good SCIM token', (get) => {
  it('answers 401 with the Bearer challenge to no token and to malformed tokens, and creates nothing', async () => {
    const t = get();
    const { org, scim } = await scimSetUp(t, 'err-token');
    const body = JSON.stringify(plainUser('nobody@err-token.example'));
    const anonymous = await t.app.inject({
      method: 'POST',
      url: '/scim/v2/Users',
      headers: { 'content-type': 'application/scim+json' },
      payload: body,
    });
    assertUnauthorized(anonymous);
    assertUnauthorized(await t.app.inject({ method: 'GET', url: '/scim/v2/Users' }));
    for (const authorization of [
      'Bearer',
      'Bearer not-a-token',
      'Bearer gks_',
      `Bearer ${org.token.slice(0, -1)}`,
      `Bearer ${org.token}x`,
      `Bearer ${org.token.slice(0, -6)}000000`,
      `Basic ${Buffer.from(`scim:${org.token}`).toString('base64')}`,
      org.token,
    ]) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/scim/v2/Users',
        headers: { authorization, 'content-type': 'application/scim+json' },
        payload: body,
      });
      assertUnauthorized(res);
      assert.ok(!res.body.includes(org.token), 'the error never echoes the credential');
    }
    assertEmptyList(await scim.get(`Users?${filterParam('userName eq "nobody@err-token.example"')}`));
  });

  it('refuses a revoked token, while a new token of the org still works', async () => {
    const t = get();
    const { org, scim } = await scimSetUp(t, 'err-revoked');
    const id = await provisionUser(scim, 'ren@err-revoked.example');
    const revoked = await asBrowser(t, org.admin, {
      method: 'DELETE',
      url: `/v1/orgs/${org.slug}/scim-tokens/${org.tokenId}`,
    });
    assert.equal(revoked.statusCode, 204, revoked.body);
    assertUnauthorized(await scim.get(`Users/${id}`));
    assertUnauthorized(await scim.patch(`Users/${id}`, patchOp({ op: 'replace', value: { active: false } })));
    assertUnauthorized(await scim.delete(`Users/${id}`));

    const fresh = await asBrowser(t, org.admin, {
      method: 'POST',
      url: `/v1/orgs/${org.slug}/scim-tokens`,
      payload: { name: 'IdP again' },
    });
    assert.equal(fresh.statusCode, 201, fresh.body);
    const again = scimClient(t, (fresh.json() as { token: string }).token);
    const read = assertScim(await again.get(`Users/${id}`), 200);
    assert.equal(read.active, true, 'the refused PATCH changed nothing');
  });

  it('refuses a token past its expiry', async () => {
    const t = get();
    const { org, scim } = await scimSetUp(t, 'err-expired');
    const id = await provisionUser(scim, 'eli@err-expired.example');
    const made = await asBrowser(t, org.admin, {
      method: 'POST',
      url: `/v1/orgs/${org.slug}/scim-tokens`,
      payload: { name: 'short-lived', expires_at: new Date(t.clock.now() + 3600_000).toISOString() },
    });
    assert.equal(made.statusCode, 201, made.body);
    const shortLived = scimClient(t, (made.json() as { token: string }).token);
    assert.equal(assertScim(await shortLived.get(`Users/${id}`), 200).id, id);
    t.clock.advance(2 * 3600_000);
    assertUnauthorized(await shortLived.get(`Users/${id}`));
    // The org's other token, without an expiry, is unaffected.
    assert.equal(assertScim(await scim.get(`Users/${id}`), 200).id, id);
  });

  it('refuses an API key of the org, even an admin’s', async () => {
    const t = get();
    const { org, scim } = await scimSetUp(t, 'err-apikey');
    const id = await provisionUser(scim, 'ash@err-apikey.example');
    const key = await createKey(t, org.admin, org.slug, { name: 'admin key' });
    assert.equal(
      (await withKey(t, key.token, { method: 'GET', url: `/v1/orgs/${org.slug}` })).statusCode,
      200,
    );
    const withApiKey = scimClient(t, key.token);
    assertUnauthorized(await withApiKey.get(`Users/${id}`));
    assertUnauthorized(await withApiKey.get('Users'));
    assertUnauthorized(
      await withApiKey.patch(`Users/${id}`, patchOp({ op: 'replace', value: { active: false } })),
    );
    assert.equal(assertScim(await scim.get(`Users/${id}`), 200).active, true);
  });

  it("keeps another org's token out of this org's users and groups", async () => {
    const t = get();
    const { scim: a } = await scimSetUp(t, 'err-tenant-a');
    const { scim: b } = await scimSetUp(t, 'err-tenant-b');
    const userA = await provisionUser(a, 'ola@err-tenant-a.example');
    const groupA = await createGroup(a, 'Tenant A', [userA]);
    const userB = await provisionUser(b, 'bea@err-tenant-b.example');
    const before = assertScim(await a.get(`Users/${userA}`), 200);

    assertScimError(await b.get(`Users/${userA}`), 404);
    assertScimError(
      await b.put(`Users/${userA}`, plainUser('ola@err-tenant-a.example', { displayName: 'Taken over' })),
      404,
    );
    assertScimError(
      await b.patch(`Users/${userA}`, patchOp({ op: 'replace', value: { active: false } })),
      404,
    );
    assertScimError(await b.delete(`Users/${userA}`), 404);
    assertEmptyList(await b.get(`Users?${filterParam('userName eq "ola@err-tenant-a.example"')}`));
    assertEmptyList(await b.get(`Users?${filterParam(`id eq "${userA}"`)}`));
    const listB = assertList(await b.get('Users?startIndex=1&count=100'));
    assert.deepEqual(
      listB.Resources.map((r) => r.id),
      [userB],
    );
    assert.equal(listB.totalResults, 1);

    assertScimError(await b.get(`Groups/${groupA}`), 404);
    assertScimError(
      await b.patch(`Groups/${groupA}`, patchOp({ op: 'add', path: 'members', value: [{ value: userB }] })),
      404,
    );
    assertScimError(await b.delete(`Groups/${groupA}`), 404);
    assertEmptyList(await b.get(`Groups?${filterParam('displayName eq "Tenant A"')}`));

    // Nothing of A's moved.
    const after = assertScim(await a.get(`Users/${userA}`), 200);
    assert.equal(after.active, true);
    assert.equal(after.displayName, undefined);
    assert.equal(after.meta.version, before.meta.version);
    assert.deepEqual(memberIds(assertScim(await a.get(`Groups/${groupA}`), 200)), [userA]);
  });
});

describeEachBackend('SCIM refuses bodies it cannot take', (get) => {
  it('answers malformed JSON with invalidSyntax and creates nothing', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-json');
    const id = await provisionUser(scim, 'joy@err-json.example');
    const broken = `{"schemas":["${USER_SCHEMA}"],"userName":"half@err-json.example",`;
    assertScimError(await scim.post('Users', broken), 400, 'invalidSyntax');
    assertScimError(await scim.put(`Users/${id}`, '{"schemas": [}'), 400, 'invalidSyntax');
    assertScimError(await scim.patch(`Users/${id}`, "{'Operations': []}"), 400, 'invalidSyntax');
    assertScimError(await scim.post('Groups', '{"displayName": "Half'), 400, 'invalidSyntax');
    assertEmptyList(await scim.get(`Users?${filterParam('userName eq "half@err-json.example"')}`));
    assert.equal(assertList(await scim.get('Groups')).totalResults, 0);
  });

  it('refuses a body without the resource schema, or a PatchOp without Operations, with invalidSyntax', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-schema');
    const id = await provisionUser(scim, 'ivy@err-schema.example');
    const { schemas: _, ...noSchemas } = plainUser('noschema@err-schema.example');
    assertScimError(await scim.post('Users', noSchemas), 400, 'invalidSyntax');
    assertScimError(
      await scim.post('Users', { ...plainUser('group@err-schema.example'), schemas: [GROUP_SCHEMA] }),
      400,
      'invalidSyntax',
    );
    assertScimError(
      await scim.patch(`Users/${id}`, { schemas: [USER_SCHEMA], active: false }),
      400,
      'invalidSyntax',
    );
    assertScimError(await scim.patch(`Users/${id}`, patchOp()), 400, 'invalidSyntax');
    assertScimError(
      await scim.patch(`Users/${id}`, patchOp({ op: 'merge', path: 'active', value: false })),
      400,
      'invalidSyntax',
    );
    assertEmptyList(await scim.get(`Users?${filterParam('userName eq "noschema@err-schema.example"')}`));
    assert.equal(assertScim(await scim.get(`Users/${id}`), 200).active, true);
  });

  it('refuses a user without userName, or whose account email is not an email, with invalidValue', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-value');
    const { userName: _, ...noUserName } = plainUser('x@err-value.example');
    assertScimError(await scim.post('Users', noUserName), 400, 'invalidValue');
    assertScimError(
      await scim.post('Users', { schemas: [USER_SCHEMA], userName: 'not-an-email', active: true }),
      400,
      'invalidValue',
    );
    assert.equal(assertList(await scim.get('Users')).totalResults, 0, 'nothing was made');
  });
});

describeEachBackend('SCIM refuses what is already taken or not there', (get) => {
  it('refuses a userName differing only in case with 409 uniqueness, on create and on rename', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-dup-user');
    const first = await provisionUser(scim, 'Casey.Jones@err-dup-user.example');
    // Another mailbox, so it is the userName alone that collides.
    const dup = await scim.post(
      'Users',
      plainUser('casey.jones@ERR-DUP-USER.example', {
        emails: [{ primary: true, value: 'casey.other@err-dup-user.example', type: 'work' }],
      }),
    );
    assertScimError(dup, 409, 'uniqueness');
    const found = assertList(
      await scim.get(`Users?${filterParam('userName eq "casey.jones@err-dup-user.example"')}`),
    );
    assert.deepEqual(
      found.Resources.map((r) => r.id),
      [first],
    );
    assertEmptyList(
      await scim.get(`Users?${filterParam('emails.value eq "casey.other@err-dup-user.example"')}`),
    );

    const second = await provisionUser(scim, 'dana@err-dup-user.example');
    assertScimError(
      await scim.patch(
        `Users/${second}`,
        patchOp({ op: 'replace', path: 'userName', value: 'CASEY.JONES@err-dup-user.example' }),
      ),
      409,
      'uniqueness',
    );
    assertScimError(
      await scim.put(
        `Users/${second}`,
        plainUser('casey.JONES@err-dup-user.example', {
          emails: [{ primary: true, value: 'dana@err-dup-user.example', type: 'work' }],
        }),
      ),
      409,
      'uniqueness',
    );
    assert.equal(assertScim(await scim.get(`Users/${second}`), 200).userName, 'dana@err-dup-user.example');
  });

  it('refuses a group displayName already taken in the org, in any case, with 409 uniqueness', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-dup-group');
    const first = await createGroup(scim, 'Platform Team');
    assertScimError(
      await scim.post('Groups', { schemas: [GROUP_SCHEMA], displayName: 'platform TEAM' }),
      409,
      'uniqueness',
    );
    const found = assertList(await scim.get(`Groups?${filterParam('displayName eq "Platform Team"')}`));
    assert.deepEqual(
      found.Resources.map((r) => r.id),
      [first],
    );
    const other = await createGroup(scim, 'Data Team');
    assertScimError(
      await scim.patch(
        `Groups/${other}`,
        patchOp({ op: 'replace', path: 'displayName', value: 'PLATFORM team' }),
      ),
      409,
      'uniqueness',
    );
    assert.equal(assertScim(await scim.get(`Groups/${other}`), 200).displayName, 'Data Team');
  });

  it('refuses a group member who is not a user of the org with 400 invalidValue', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-member');
    const { scim: elsewhere } = await scimSetUp(t, 'err-member-other');
    const mine = await provisionUser(scim, 'mo@err-member.example');
    const theirs = await provisionUser(elsewhere, 'ted@err-member-other.example');

    for (const outsider of [NO_USER, theirs, 'not-an-id']) {
      const res = await scim.post('Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: `Outsiders ${outsider}`,
        members: [{ value: mine }, { value: outsider }],
      });
      assertScimError(res, 400, 'invalidValue');
    }
    assert.equal(assertList(await scim.get('Groups')).totalResults, 0, 'no group was left half made');

    const groupId = await createGroup(scim, 'Insiders', [mine]);
    const before = assertScim(await scim.get(`Groups/${groupId}`), 200);
    assertScimError(
      await scim.patch(
        `Groups/${groupId}`,
        patchOp({ op: 'add', path: 'members', value: [{ value: theirs }] }),
      ),
      400,
      'invalidValue',
    );
    assertScimError(
      await scim.put(`Groups/${groupId}`, {
        schemas: [GROUP_SCHEMA],
        displayName: 'Insiders',
        members: [{ value: theirs }],
      }),
      400,
      'invalidValue',
    );
    const after = assertScim(await scim.get(`Groups/${groupId}`), 200);
    assert.deepEqual(memberIds(after), [mine]);
    assert.equal(after.meta.version, before.meta.version);
    // The other org's user is untouched and in no group of this org.
    assert.deepEqual(assertScim(await elsewhere.get(`Users/${theirs}`), 200).groups, []);
  });

  it('answers 412 to an If-Match naming an old version, and changes nothing', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-ifmatch');
    const id = await provisionUser(scim, 'ian@err-ifmatch.example');
    const created = await scim.get(`Users/${id}`);
    const v1 = etagOf(created);
    const renamed = await scim.patch(
      `Users/${id}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Ian' }),
      { headers: { 'if-match': v1 } },
    );
    const v2 = etagOf(renamed);
    assert.equal(assertScim(renamed, 200).displayName, 'Ian', 'the current version is accepted');
    assert.notEqual(v2, v1);

    const stale = { headers: { 'if-match': v1 } };
    assertScimError(
      await scim.patch(`Users/${id}`, patchOp({ op: 'replace', path: 'displayName', value: 'Stale' }), stale),
      412,
      null,
    );
    assertScimError(await scim.put(`Users/${id}`, plainUser('ian@err-ifmatch.example'), stale), 412, null);
    assertScimError(await scim.delete(`Users/${id}`, stale), 412, null);
    const read = await scim.get(`Users/${id}`);
    assert.equal(assertScim(read, 200).displayName, 'Ian');
    assert.equal(etagOf(read), v2);

    const groupId = await createGroup(scim, 'Versioned', [id]);
    const g1 = etagOf(await scim.get(`Groups/${groupId}`));
    const moved = await scim.patch(
      `Groups/${groupId}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Versioned Again' }),
      { headers: { 'if-match': g1 } },
    );
    assert.equal(moved.statusCode, 204, moved.body);
    const groupStale = { headers: { 'if-match': g1 } };
    assertScimError(
      await scim.patch(`Groups/${groupId}`, patchOp({ op: 'remove', path: 'members' }), groupStale),
      412,
      null,
    );
    assertScimError(
      await scim.put(`Groups/${groupId}`, { schemas: [GROUP_SCHEMA], displayName: 'Stale' }, groupStale),
      412,
      null,
    );
    assertScimError(await scim.delete(`Groups/${groupId}`, groupStale), 412, null);
    const group = assertScim(await scim.get(`Groups/${groupId}`), 200);
    assert.equal(group.displayName, 'Versioned Again');
    assert.deepEqual(memberIds(group), [id]);

    // The current tag deletes.
    const deleted = await scim.delete(`Users/${id}`, { headers: { 'if-match': v2 } });
    assert.equal(deleted.statusCode, 204, deleted.body);
  });

  it('answers 404 in the SCIM error schema for ids it does not have', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-unknown');
    const id = await provisionUser(scim, 'una@err-unknown.example');
    for (const missing of [NO_USER, 'nonexistent', NO_GROUP]) {
      assertScimError(await scim.get(`Users/${missing}`), 404);
      assertScimError(await scim.put(`Users/${missing}`, plainUser('una@err-unknown.example')), 404);
      assertScimError(
        await scim.patch(`Users/${missing}`, patchOp({ op: 'replace', value: { active: false } })),
        404,
      );
      assertScimError(await scim.delete(`Users/${missing}`), 404);
    }
    for (const missing of [NO_GROUP, 'nonexistent', id]) {
      assertScimError(await scim.get(`Groups/${missing}`), 404);
      assertScimError(
        await scim.put(`Groups/${missing}`, { schemas: [GROUP_SCHEMA], displayName: 'Ghost' }),
        404,
      );
      assertScimError(
        await scim.patch(
          `Groups/${missing}`,
          patchOp({ op: 'replace', path: 'displayName', value: 'Ghost' }),
        ),
        404,
      );
      assertScimError(await scim.delete(`Groups/${missing}`), 404);
    }
    // A second DELETE finds nothing.
    assert.equal((await scim.delete(`Users/${id}`)).statusCode, 204);
    assertScimError(await scim.delete(`Users/${id}`), 404);
    assertScimError(
      await scim.patch(`Users/${id}`, patchOp({ op: 'replace', value: { active: true } })),
      404,
    );
    // The PUT to a missing id did not create the user under another id.
    assert.equal(assertList(await scim.get('Users')).totalResults, 0);
    assert.equal(assertList(await scim.get('Groups')).totalResults, 0);
  });
});

describeEachBackend('SCIM lists page and project as asked', (get) => {
  it('pages with startIndex and count: stable, non-overlapping, complete', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-paging');
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push(await provisionUser(scim, `pager${i}@err-paging.example`));
    const sorted = [...ids].sort();

    const pages: string[][] = [];
    for (const startIndex of [1, 3, 5]) {
      const page = assertList(await scim.get(`Users?startIndex=${startIndex}&count=2`));
      assert.equal(page.totalResults, 5);
      assert.equal(page.startIndex, startIndex);
      pages.push(page.Resources.map((r) => r.id));
    }
    assert.deepEqual(
      pages.map((p) => p.length),
      [2, 2, 1],
    );
    const all = pages.flat();
    assert.equal(new Set(all).size, 5, 'no id on two pages');
    assert.deepEqual(all, sorted, 'every id once, in id order');
    const again = assertList(await scim.get('Users?startIndex=3&count=2'));
    assert.deepEqual(
      again.Resources.map((r) => r.id),
      pages[1],
      'the same page twice',
    );

    // A filter pages the same way, and totalResults counts the matches, not the page.
    const filtered = assertList(
      await scim.get(`Users?${filterParam('userName sw "pager"')}&startIndex=2&count=3`),
    );
    assert.equal(filtered.totalResults, 5);
    assert.deepEqual(
      filtered.Resources.map((r) => r.id),
      sorted.slice(1, 4),
    );
    const past = assertList(await scim.get('Users?startIndex=6&count=2'));
    assert.equal(past.totalResults, 5);
    assert.deepEqual(past.Resources, []);
    // count=0 asks for the total alone (RFC 7644 §3.4.2.4).
    const countOnly = assertList(await scim.get('Users?count=0'));
    assert.equal(countOnly.totalResults, 5);
    assert.deepEqual(countOnly.Resources, []);
    // A negative count reads as 0 (RFC 7644 §3.4.2.4).
    const negative = assertList(await scim.get('Users?count=-1'));
    assert.equal(negative.totalResults, 5);
    assert.deepEqual(negative.Resources, []);
    // startIndex below 1 reads as 1.
    const low = assertList(await scim.get('Users?startIndex=0&count=2'));
    assert.equal(low.startIndex, 1);
    assert.deepEqual(
      low.Resources.map((r) => r.id),
      sorted.slice(0, 2),
    );
  });

  it('answers at most 200 resources a page, whatever count asks for', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-page-max');
    const groups: string[] = [];
    for (let i = 0; i < 201; i++)
      groups.push(await createGroup(scim, `Page Group ${String(i).padStart(3, '0')}`));
    const first = assertList(await scim.get('Groups?startIndex=1&count=500&excludedAttributes=members'));
    assert.equal(first.totalResults, 201);
    assert.equal(first.itemsPerPage, 200);
    const rest = assertList(await scim.get('Groups?startIndex=201&count=500&excludedAttributes=members'));
    assert.equal(rest.itemsPerPage, 1);
    assert.deepEqual(
      [...first.Resources, ...rest.Resources].map((g) => g.id),
      [...groups].sort(),
    );
  });

  it('filters on meta.lastModified, for imports that read only what changed', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-lastmod');
    const quiet = await provisionUser(scim, 'quiet@err-lastmod.example');
    const busy = await provisionUser(scim, 'busy@err-lastmod.example');
    const quietGroup = await createGroup(scim, 'Quiet');
    const busyGroup = await createGroup(scim, 'Busy');
    const since = assertScim(await scim.get(`Users/${quiet}`), 200).meta.lastModified as string;
    t.clock.advance(60_000);
    assertScim(
      await scim.patch(`Users/${busy}`, patchOp({ op: 'replace', value: { displayName: 'Busy' } })),
      200,
    );
    const renamed = await scim.patch(
      `Groups/${busyGroup}`,
      patchOp({ op: 'replace', path: 'displayName', value: 'Busier' }),
    );
    assert.equal(renamed.statusCode, 204, renamed.body);

    const users = assertList(await scim.get(`Users?${filterParam(`meta.lastModified gt "${since}"`)}`));
    assert.deepEqual(
      users.Resources.map((r) => r.id),
      [busy],
    );
    const groups = assertList(await scim.get(`Groups?${filterParam(`meta.lastModified gt "${since}"`)}`));
    assert.deepEqual(
      groups.Resources.map((r) => r.id),
      [busyGroup],
    );
    const notAfter = assertList(await scim.get(`Groups?${filterParam(`meta.lastModified le "${since}"`)}`));
    assert.deepEqual(
      notAfter.Resources.map((r) => r.id),
      [quietGroup],
    );
  });

  it('returns only id and userName for attributes=userName', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-attrs');
    const id = await provisionUser(scim, 'ada@err-attrs.example', {
      displayName: 'Ada',
      externalId: 'ext-ada',
    });
    const allowed = new Set(['schemas', 'id', 'userName']);
    const one = assertScim(await scim.get(`Users/${id}?attributes=userName`), 200);
    assert.equal(one.id, id);
    assert.equal(one.userName, 'ada@err-attrs.example');
    for (const key of Object.keys(one))
      assert.ok(allowed.has(key), `unexpected ${key}: ${JSON.stringify(one)}`);

    const list = assertList(await scim.get(`Users?${filterParam(`id eq "${id}"`)}&attributes=userName`));
    assert.equal(list.totalResults, 1);
    const listed = list.Resources[0]!;
    assert.equal(listed.id, id);
    assert.equal(listed.userName, 'ada@err-attrs.example');
    for (const key of Object.keys(listed))
      assert.ok(allowed.has(key), `unexpected ${key}: ${JSON.stringify(listed)}`);
  });

  it('drops emails for excludedAttributes=emails and keeps the rest', async () => {
    const t = get();
    const { scim } = await scimSetUp(t, 'err-excluded');
    const id = await provisionUser(scim, 'eve@err-excluded.example', { displayName: 'Eve' });
    const one = assertScim(await scim.get(`Users/${id}?excludedAttributes=emails`), 200);
    assert.equal(one.emails, undefined);
    assert.equal(one.id, id);
    assert.equal(one.userName, 'eve@err-excluded.example');
    assert.equal(one.displayName, 'Eve');
    assert.deepEqual(one.name, { givenName: 'Robin', familyName: 'Park' });
    assert.equal(one.active, true);

    const list = assertList(await scim.get('Users?excludedAttributes=emails'));
    assert.equal(list.totalResults, 1);
    assert.equal(list.Resources[0]?.emails, undefined);
    assert.equal(list.Resources[0]?.userName, 'eve@err-excluded.example');
    // Left out of the answer only: the stored emails are still there.
    assert.deepEqual(assertScim(await scim.get(`Users/${id}`), 200).emails, [
      { primary: true, value: 'eve@err-excluded.example', type: 'work' },
    ]);
  });
});

// A separate app per backend, started with a small body limit, so a body over it is cheap to make.
for (const kind of backendKinds()) {
  describe(`SCIM refuses a body over GATEHOUSE_BODY_LIMIT_BYTES [${kind}]`, () => {
    const LIMIT = 4096;
    let t: TestApp | undefined;
    before(async () => {
      t = await createTestApp(kind, { GATEHOUSE_BODY_LIMIT_BYTES: String(LIMIT) });
    });
    after(async () => {
      await t?.close();
    });

    it('answers 413 in the SCIM error schema and creates nothing', async () => {
      const app = t!;
      const { scim } = await scimSetUp(app, 'err-413');
      const small = plainUser('small@err-413.example');
      assert.ok(JSON.stringify(small).length < LIMIT);
      const id = assertScim(await scim.post('Users', small), 201).id as string;

      const big = plainUser('big@err-413.example', { displayName: 'x'.repeat(LIMIT * 2) });
      assertScimError(await scim.post('Users', big), 413);
      assertEmptyList(await scim.get(`Users?${filterParam('userName eq "big@err-413.example"')}`));

      const bigPatch = patchOp({ op: 'replace', path: 'displayName', value: 'y'.repeat(LIMIT * 2) });
      assertScimError(await scim.patch(`Users/${id}`, bigPatch), 413);
      assert.equal(assertScim(await scim.get(`Users/${id}`), 200).displayName, undefined);
    });
  });
}
