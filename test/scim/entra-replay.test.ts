// Microsoft Entra ID's provisioning service against /scim/v2, as Microsoft's SCIM endpoint
// tutorial and its list of SCIM compliance issues show it: a connection test that looks up a
// random userName, lookups by userName and externalId, a create carrying the enterprise
// extension, and PATCH in Entra's own dialect — capitalised ops, "True"/"False" as strings,
// value-filtered paths, extension URNs in paths and as keys, dotted keys in path-less
// operations, filtered replaces of elements that do not exist yet — and group members
// added and removed in both forms Entra sends. Every change is read back by GET.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { it } from 'node:test';
import { asBrowser, type TestApp } from '../helpers/app.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';
import {
  assertEmptyList,
  assertList,
  assertScim,
  assertScimError,
  ENTERPRISE_SCHEMA,
  etagOf,
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

/** The schema Entra adds to the groups it creates; not one of ours, and ignored. */
const ENTRA_GROUP_SCHEMA = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';

/** A query string as Entra's client encodes it: spaces as `+`, quotes and `@` percent-encoded. */
function entraFilter(expression: string, extra: Record<string, string> = {}): string {
  return new URLSearchParams({ ...extra, filter: expression }).toString();
}

async function entraSetUp(t: TestApp, slug: string): Promise<{ org: ScimOrg; entra: ScimClient }> {
  const org = await setUpScimOrg(t, slug, 'Microsoft Entra ID');
  // Entra sends application/scim+json without a charset.
  return { org, entra: scimClient(t, org.token, 'application/scim+json') };
}

/** The body of Entra's "Create User" request: UPN as userName, the enterprise extension. */
function entraUser(upn: string, externalId: string, enterprise: Record<string, unknown> = {}): ScimDoc {
  const [given = 'Adele', family = 'Vance'] = upn.split('@')[0]?.split('.') ?? [];
  const givenName = given.charAt(0).toUpperCase() + given.slice(1);
  const familyName = family.charAt(0).toUpperCase() + family.slice(1);
  return {
    schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
    externalId,
    userName: upn,
    active: true,
    displayName: `${givenName} ${familyName}`,
    emails: [{ primary: true, type: 'work', value: upn }],
    meta: { resourceType: 'User' },
    name: { formatted: `${givenName} ${familyName}`, familyName, givenName },
    [ENTERPRISE_SCHEMA]: { employeeNumber: '1001', department: 'Retail', ...enterprise },
  };
}

async function entraCreate(entra: ScimClient, upn: string, enterprise: Record<string, unknown> = {}) {
  const res = await entra.post('Users', entraUser(upn, randomUUID(), enterprise));
  return assertScim(res, 201);
}

async function patchUser(entra: ScimClient, id: string, ...operations: Record<string, unknown>[]) {
  return assertScim(await entra.patch(`Users/${id}`, patchOp(...operations)), 200);
}

async function readUser(entra: ScimClient, id: string): Promise<ScimDoc> {
  return assertScim(await entra.get(`Users/${id}`), 200);
}

describeEachBackend('SCIM as Microsoft Entra ID provisions users', (get) => {
  it("passes Entra's connection test: a random userName finds nobody", async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-conn');
    assertEmptyList(await entra.get(`Users?${entraFilter(`userName eq "${randomUUID()}"`)}`));
  });

  it('looks people up by externalId: nobody before the create, the person after', async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-extid');
    const externalId = randomUUID();
    assertEmptyList(await entra.get(`Users?${entraFilter(`externalId eq "${externalId}"`)}`));
    const res = await entra.post('Users', entraUser('alex.wilber@entra-extid.example', externalId));
    const created = assertScim(res, 201);
    const found = assertList(await entra.get(`Users?${entraFilter(`externalId eq "${externalId}"`)}`));
    assert.equal(found.totalResults, 1);
    assert.equal(found.Resources[0]?.id, created.id);
    assert.equal(found.Resources[0]?.externalId, externalId);
    // externalId is caseExact (RFC 7643 §3.1): another casing is another id.
    assertEmptyList(await entra.get(`Users?${entraFilter(`externalId eq "${externalId.toUpperCase()}"`)}`));
  });

  it("creates the user from Entra's body, enterprise extension and manager included", async () => {
    const t = get();
    const { org, entra } = await entraSetUp(t, 'entra-create');
    const manager = await entraCreate(entra, 'nestor.wilke@entra-create.example');
    const externalId = randomUUID();
    const res = await entra.post(
      'Users',
      entraUser('adele.vance@entra-create.example', externalId, {
        employeeNumber: '4711',
        department: 'Retail',
        manager: { value: manager.id },
      }),
    );
    const user = assertScim(res, 201);
    assert.match(user.id, /^usr_/);
    assert.deepEqual([...user.schemas].sort(), [ENTERPRISE_SCHEMA, USER_SCHEMA].sort());
    assert.equal(user.userName, 'adele.vance@entra-create.example');
    assert.equal(user.externalId, externalId);
    assert.equal(user.active, true);
    assert.equal(user.displayName, 'Adele Vance');
    assert.deepEqual(user.name, { formatted: 'Adele Vance', familyName: 'Vance', givenName: 'Adele' });
    assert.deepEqual(user.emails, [
      { primary: true, type: 'work', value: 'adele.vance@entra-create.example' },
    ]);
    assert.equal(user[ENTERPRISE_SCHEMA]?.employeeNumber, '4711');
    assert.equal(user[ENTERPRISE_SCHEMA]?.department, 'Retail');
    assert.equal(user[ENTERPRISE_SCHEMA]?.manager?.value, manager.id);
    assert.equal(user.meta.resourceType, 'User');
    assert.equal(user.meta.location, `${SCIM_BASE}/Users/${user.id}`);
    assert.equal(res.headers.location, user.meta.location);
    assert.equal(etagOf(res), user.meta.version);

    const read = await readUser(entra, user.id);
    assert.equal(read.userName, 'adele.vance@entra-create.example');
    assert.equal(read[ENTERPRISE_SCHEMA]?.employeeNumber, '4711');
    assert.equal(read[ENTERPRISE_SCHEMA]?.manager?.value, manager.id);
    // userName is not caseExact: Entra's UPN in another casing finds the same person.
    const found = assertList(
      await entra.get(`Users?${entraFilter('userName eq "Adele.Vance@ENTRA-CREATE.example"')}`),
    );
    assert.deepEqual(
      found.Resources.map((r) => r.id),
      [user.id],
    );
    const member = await membershipOf(t, org, user.id);
    assert.equal(member.email, 'adele.vance@entra-create.example');
    assert.equal(member.role_source, 'scim');
  });

  it("provisions a guest whose UPN carries Entra's #EXT# marker, and finds them by it", async () => {
    const t = get();
    const { org, entra } = await entraSetUp(t, 'entra-guest');
    const upn = 'sam_partner.example#EXT#@entra-guest.example';
    assertEmptyList(await entra.get(`Users?${entraFilter(`userName eq "${upn}"`)}`));
    const body = entraUser(upn, randomUUID());
    const res = await entra.post('Users', {
      ...body,
      displayName: 'Sam Partner',
      emails: [{ primary: true, type: 'work', value: 'sam@partner.example' }],
      name: { formatted: 'Sam Partner', familyName: 'Partner', givenName: 'Sam' },
    });
    const guest = assertScim(res, 201);
    assert.equal(guest.userName, upn);
    const found = assertList(await entra.get(`Users?${entraFilter(`userName eq "${upn}"`)}`));
    assert.deepEqual(
      found.Resources.map((r) => r.id),
      [guest.id],
    );
    // The account is the guest's own mailbox, not the UPN.
    assert.equal((await membershipOf(t, org, guest.id)).email, 'sam@partner.example');
  });

  it('applies capitalised Replace ops on a filtered email, a sub-attribute and userName', async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-replace');
    const user = await entraCreate(entra, 'lee.gu@entra-replace.example');
    const patched = await patchUser(
      entra,
      user.id,
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'lee.gu2@entra-replace.example' },
      { op: 'Replace', path: 'name.givenName', value: 'Leland' },
      { op: 'Replace', path: 'name.familyName', value: 'Gu-Park' },
      { op: 'Replace', path: 'userName', value: 'leland.gu@entra-replace.example' },
    );
    assert.equal(patched.userName, 'leland.gu@entra-replace.example');
    assert.notEqual(patched.meta.version, user.meta.version);

    const read = await readUser(entra, user.id);
    assert.deepEqual(read.emails, [{ primary: true, type: 'work', value: 'lee.gu2@entra-replace.example' }]);
    assert.deepEqual(read.name, { formatted: 'Lee Gu', familyName: 'Gu-Park', givenName: 'Leland' });
    assert.equal(read.userName, 'leland.gu@entra-replace.example');
    // The indexed copies follow the document: filters find the new values and not the old.
    const byEmail = assertList(
      await entra.get(`Users?${entraFilter('emails.value eq "lee.gu2@entra-replace.example"')}`),
    );
    assert.deepEqual(
      byEmail.Resources.map((r) => r.id),
      [user.id],
    );
    assertEmptyList(
      await entra.get(`Users?${entraFilter('emails[value eq "lee.gu@entra-replace.example"]')}`),
    );
    assertEmptyList(await entra.get(`Users?${entraFilter('userName eq "lee.gu@entra-replace.example"')}`));
    assert.equal(
      assertList(await entra.get(`Users?${entraFilter('userName eq "leland.gu@entra-replace.example"')}`))
        .totalResults,
      1,
    );
  });

  it('changes the work email in place when Entra sends Add on its filtered path', async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-add-email');
    const user = await entraCreate(entra, 'joe.test@entra-add-email.example');
    // Entra sends Add rather than Replace for a changed email; the element already exists.
    await patchUser(
      entra,
      user.id,
      { op: 'Replace', path: 'title', value: 'tester' },
      { op: 'Add', path: 'emails[type eq "work"].value', value: 'joe.new@entra-add-email.example' },
    );
    const read = await readUser(entra, user.id);
    assert.deepEqual(read.emails, [
      { primary: true, type: 'work', value: 'joe.new@entra-add-email.example' },
    ]);
    assert.equal(read.title, 'tester');

    // A second address made primary with Entra's string boolean: the old one stops being primary.
    await patchUser(
      entra,
      user.id,
      { op: 'Add', path: 'emails[type eq "other"].value', value: 'joe.other@entra-add-email.example' },
      { op: 'Replace', path: 'emails[type eq "other"].primary', value: 'True' },
    );
    const emails = (await readUser(entra, user.id)).emails as ScimDoc[];
    assert.equal(emails.length, 2);
    assert.deepEqual(
      emails.find((e) => e.type === 'other'),
      { type: 'other', value: 'joe.other@entra-add-email.example', primary: true },
    );
    const work = emails.find((e) => e.type === 'work');
    assert.equal(work?.value, 'joe.new@entra-add-email.example');
    assert.notEqual(work?.primary, true, 'one primary at most (RFC 7643 §2.4)');
  });

  it('accepts a create carrying a custom extension it does not know, keeping what it does', async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-custom');
    const custom = 'urn:ietf:params:scim:schemas:extension:custom:2.0:User';
    const body = entraUser('joe.custom@entra-custom.example', randomUUID());
    const res = await entra.post('Users', {
      ...body,
      schemas: [...body.schemas, custom],
      title: 'scim tester',
      [custom]: { employeeNumber: '99887766', worksiteId: '180' },
    });
    const user = assertScim(res, 201);
    assert.equal(user.title, 'scim tester');
    assert.equal(user[custom], undefined, 'an attribute outside the served schemas is not kept');
    assert.ok(!user.schemas.includes(custom));
    const read = await readUser(entra, user.id);
    assert.equal(read.title, 'scim tester');
    assert.equal(read[ENTERPRISE_SCHEMA]?.employeeNumber, '1001');
  });

  it('adds app roles as Entra sends them', async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-roles');
    const user = await entraCreate(entra, 'role.holder@entra-roles.example');
    await patchUser(entra, user.id, {
      op: 'Add',
      path: 'roles',
      value: [{ primary: false, type: 'WindowsAzureActiveDirectoryRole', display: 'Admin', value: 'Admin' }],
    });
    assert.deepEqual((await readUser(entra, user.id)).roles, [
      { primary: false, type: 'WindowsAzureActiveDirectoryRole', display: 'Admin', value: 'Admin' },
    ]);
  });

  it('reads "False" and "True" as booleans when Entra disables and enables a user', async () => {
    const t = get();
    const { org, entra } = await entraSetUp(t, 'entra-bool');
    const user = await entraCreate(entra, 'diego.siciliani@entra-bool.example');

    const off = await patchUser(entra, user.id, { op: 'Replace', path: 'active', value: 'False' });
    assert.equal(off.active, false, 'a boolean, not the string');
    const readOff = await readUser(entra, user.id);
    assert.equal(readOff.active, false);
    assert.equal((await lastMembershipChange(t, org, user.id))?.action, 'member.suspended');
    assert.equal(
      assertList(await entra.get(`Users?${entraFilter('active eq false')}`)).Resources[0]?.id,
      user.id,
    );

    const on = await patchUser(entra, user.id, { op: 'Replace', path: 'active', value: 'True' });
    assert.equal(on.active, true);
    assert.equal((await readUser(entra, user.id)).active, true);
    assert.equal((await lastMembershipChange(t, org, user.id))?.action, 'member.reactivated');

    // Entra with the compliance flag set sends a real boolean.
    assert.equal(
      (await patchUser(entra, user.id, { op: 'replace', path: 'active', value: false })).active,
      false,
    );
    assert.equal((await readUser(entra, user.id)).active, false);
  });

  it('sets and changes the manager through its extension path', async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-mgr');
    const first = await entraCreate(entra, 'miriam.graham@entra-mgr.example');
    const second = await entraCreate(entra, 'johanna.lorenz@entra-mgr.example');
    const user = await entraCreate(entra, 'isaiah.langer@entra-mgr.example');
    const path = `${ENTERPRISE_SCHEMA}:manager`;

    await patchUser(entra, user.id, { op: 'Add', path, value: { value: first.id } });
    const afterAdd = await readUser(entra, user.id);
    assert.equal(afterAdd[ENTERPRISE_SCHEMA]?.manager?.value, first.id);
    assert.equal(afterAdd[ENTERPRISE_SCHEMA]?.employeeNumber, '1001', 'the rest of the extension is kept');
    assert.ok(afterAdd.schemas.includes(ENTERPRISE_SCHEMA));

    await patchUser(entra, user.id, { op: 'Replace', path, value: { value: second.id } });
    assert.equal((await readUser(entra, user.id))[ENTERPRISE_SCHEMA]?.manager?.value, second.id);

    await patchUser(entra, user.id, {
      op: 'Replace',
      path: `${ENTERPRISE_SCHEMA}:department`,
      value: 'Operations',
    });
    const read = await readUser(entra, user.id);
    assert.equal(read[ENTERPRISE_SCHEMA]?.department, 'Operations');
    assert.equal(read[ENTERPRISE_SCHEMA]?.manager?.value, second.id);

    // The manager cleared in Entra: a Remove on the same path.
    await patchUser(entra, user.id, { op: 'Remove', path });
    const cleared = await readUser(entra, user.id);
    assert.equal(cleared[ENTERPRISE_SCHEMA]?.manager, undefined);
    assert.equal(cleared[ENTERPRISE_SCHEMA]?.department, 'Operations');
  });

  it('makes the element a filtered Replace or Add names when the user has none', async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-absent');
    const user = await entraCreate(entra, 'pradeep.gupta@entra-absent.example');
    assert.equal(user.addresses, undefined);
    assert.equal(user.phoneNumbers, undefined);

    // Entra sends one operation per sub-attribute of the same work address.
    await patchUser(
      entra,
      user.id,
      { op: 'Replace', path: 'addresses[type eq "work"].streetAddress', value: '1 Microsoft Way' },
      { op: 'Replace', path: 'addresses[type eq "work"].locality', value: 'Redmond' },
      { op: 'Replace', path: 'addresses[type eq "work"].postalCode', value: '98052' },
      { op: 'Add', path: 'phoneNumbers[type eq "mobile"].value', value: '+1 425 555 0100' },
    );
    const read = await readUser(entra, user.id);
    assert.deepEqual(read.addresses, [
      { type: 'work', streetAddress: '1 Microsoft Way', locality: 'Redmond', postalCode: '98052' },
    ]);
    assert.deepEqual(read.phoneNumbers, [{ type: 'mobile', value: '+1 425 555 0100' }]);

    // The next sync finds the element and changes it in place rather than adding another.
    await patchUser(entra, user.id, {
      op: 'Replace',
      path: 'phoneNumbers[type eq "mobile"].value',
      value: '+1 425 555 0199',
    });
    assert.deepEqual((await readUser(entra, user.id)).phoneNumbers, [
      { type: 'mobile', value: '+1 425 555 0199' },
    ]);
  });

  it('applies path-less Add and Replace with dotted keys and the extension URN as keys', async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-pathless');
    const manager = await entraCreate(entra, 'lynne.robbins@entra-pathless.example');
    const user = await entraCreate(entra, 'megan.bowen@entra-pathless.example', {
      manager: { value: manager.id },
    });

    await patchUser(entra, user.id, {
      op: 'Replace',
      value: {
        'name.givenName': 'Meg',
        'name.familyName': 'Bowen-Smith',
        displayName: 'Meg Bowen-Smith',
        [`${ENTERPRISE_SCHEMA}:employeeNumber`]: '2002',
      },
    });
    const afterReplace = await readUser(entra, user.id);
    assert.deepEqual(afterReplace.name, {
      formatted: 'Megan Bowen',
      familyName: 'Bowen-Smith',
      givenName: 'Meg',
    });
    assert.equal(afterReplace.displayName, 'Meg Bowen-Smith');
    assert.equal(afterReplace[ENTERPRISE_SCHEMA]?.employeeNumber, '2002');
    assert.equal(afterReplace[ENTERPRISE_SCHEMA]?.department, 'Retail');
    assert.equal(afterReplace[ENTERPRISE_SCHEMA]?.manager?.value, manager.id);

    // The extension's URN as the key of an object of its attributes (RFC 7644 §3.5.2.1).
    await patchUser(entra, user.id, {
      op: 'Add',
      value: { [ENTERPRISE_SCHEMA]: { department: 'Marketing', costCenter: 'CC-17' }, title: 'Marketer' },
    });
    const afterAdd = await readUser(entra, user.id);
    assert.equal(afterAdd[ENTERPRISE_SCHEMA]?.department, 'Marketing');
    assert.equal(afterAdd[ENTERPRISE_SCHEMA]?.costCenter, 'CC-17');
    assert.equal(afterAdd[ENTERPRISE_SCHEMA]?.employeeNumber, '2002', 'attributes not named are kept');
    assert.equal(afterAdd[ENTERPRISE_SCHEMA]?.manager?.value, manager.id);
    assert.equal(afterAdd.title, 'Marketer');
    assert.equal(afterAdd.name.givenName, 'Meg');
  });

  it('provisions users sent in parallel, as the provisioning service does', async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-parallel');
    const names = Array.from({ length: 8 }, (_, i) => `worker${i}@entra-parallel.example`);
    const answers = await Promise.all(names.map((upn) => entra.post('Users', entraUser(upn, randomUUID()))));
    const ids = answers.map((res) => assertScim(res, 201).id as string);
    assert.equal(new Set(ids).size, names.length);
    const listed = assertList(await entra.get('Users?startIndex=1&count=100'));
    assert.equal(listed.totalResults, names.length);
    assert.deepEqual(listed.Resources.map((r) => r.id).sort(), [...ids].sort());
  });

  it('deletes a user: 204, then 404, gone from lookups, their groups and the org', async () => {
    const t = get();
    const { org, entra } = await entraSetUp(t, 'entra-delete');
    const user = await entraCreate(entra, 'grady.archie@entra-delete.example');
    const group = assertScim(
      await entra.post('Groups', {
        schemas: [GROUP_SCHEMA],
        displayName: 'Leavers',
        members: [{ value: user.id }],
      }),
      201,
    );
    const res = await entra.delete(`Users/${user.id}`);
    assert.equal(res.statusCode, 204, res.body);
    assert.equal(res.body, '');
    assertScimError(await entra.get(`Users/${user.id}`), 404);
    assertEmptyList(
      await entra.get(`Users?${entraFilter('userName eq "grady.archie@entra-delete.example"')}`),
    );
    // A group listing a User that answers 404 would be a dangling reference.
    assert.deepEqual(memberIds(assertScim(await entra.get(`Groups/${group.id}`), 200)), []);
    // And out of the org: the admin no longer sees them as a member.
    const gone = await asBrowser(t, org.admin, {
      method: 'GET',
      url: `/v1/orgs/${org.slug}/members/${user.id}`,
    });
    assert.equal(gone.statusCode, 404, gone.body);
  });
});

describeEachBackend('SCIM as Microsoft Entra ID provisions groups', (get) => {
  async function withPeople(t: TestApp, slug: string) {
    const { org, entra } = await entraSetUp(t, slug);
    const a = await entraCreate(entra, `alex.wilber@${slug}.example`);
    const b = await entraCreate(entra, `joni.sherman@${slug}.example`);
    return { org, entra, a: a.id as string, b: b.id as string };
  }

  async function entraGroup(entra: ScimClient, displayName: string) {
    const externalId = randomUUID();
    const res = await entra.post('Groups', {
      schemas: [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
      externalId,
      displayName,
      meta: { resourceType: 'Group' },
    });
    return { res, externalId, group: assertScim(res, 201) };
  }

  it("creates a group from Entra's body, with no members yet", async () => {
    const t = get();
    const { entra } = await entraSetUp(t, 'entra-grp-create');
    const { res, externalId, group } = await entraGroup(entra, 'Sales and Marketing');
    assert.match(group.id, /^grp_/);
    assert.equal(group.displayName, 'Sales and Marketing');
    assert.equal(group.externalId, externalId);
    assert.deepEqual(group.members ?? [], []);
    assert.equal(group.meta.resourceType, 'Group');
    assert.equal(res.headers.location, `${SCIM_BASE}/Groups/${group.id}`);
    assert.equal(etagOf(res), group.meta.version);
    const read = assertScim(await entra.get(`Groups/${group.id}`), 200);
    assert.equal(read.displayName, 'Sales and Marketing');
    assert.equal(read.externalId, externalId);
    const byExternalId = assertList(
      await entra.get(`Groups?${entraFilter(`externalId eq "${externalId}"`)}`),
    );
    assert.deepEqual(
      byExternalId.Resources.map((g) => g.id),
      [group.id],
    );
    // displayName is not caseExact (RFC 7643 §4.2): Entra's lookup finds it in any casing.
    const byName = assertList(
      await entra.get(`Groups?${entraFilter('displayName eq "sales and MARKETING"')}`),
    );
    assert.deepEqual(
      byName.Resources.map((g) => g.id),
      [group.id],
    );
  });

  it('finds a group by displayName without its members, as Entra asks', async () => {
    const t = get();
    const { entra, a } = await withPeople(t, 'entra-grp-find');
    const { group } = await entraGroup(entra, 'Retail');
    await entraGroup(entra, 'Retail Managers');
    const added = await entra.patch(
      `Groups/${group.id}`,
      patchOp({ op: 'Add', path: 'members', value: [{ $ref: null, value: a }] }),
    );
    assert.equal(added.statusCode, 204, added.body);

    const found = assertList(
      await entra.get(`Groups?${entraFilter('displayName eq "Retail"', { excludedAttributes: 'members' })}`),
    );
    assert.equal(found.totalResults, 1);
    assert.equal(found.Resources[0]?.id, group.id);
    assert.equal(found.Resources[0]?.displayName, 'Retail');
    assert.equal(found.Resources[0]?.members, undefined, 'members left out');
    const one = assertScim(await entra.get(`Groups/${group.id}?excludedAttributes=members`), 200);
    assert.equal(one.members, undefined);
    assert.equal(one.displayName, 'Retail');
    assert.deepEqual(memberIds(assertScim(await entra.get(`Groups/${group.id}`), 200)), [a]);
  });

  it('adds members with Add and removes them with both forms of Remove Entra sends', async () => {
    const t = get();
    const { entra, a, b } = await withPeople(t, 'entra-grp-members');
    const { group } = await entraGroup(entra, 'Project Falcon');

    const added = await entra.patch(
      `Groups/${group.id}`,
      patchOp({
        op: 'Add',
        path: 'members',
        value: [
          { $ref: null, value: a },
          { $ref: null, value: b },
        ],
      }),
    );
    assert.equal(added.statusCode, 204, added.body);
    assert.equal(added.body, '');
    etagOf(added);
    assert.deepEqual(memberIds(assertScim(await entra.get(`Groups/${group.id}`), 200)), [a, b].sort());
    const userA = assertScim(await entra.get(`Users/${a}`), 200);
    assert.deepEqual(
      userA.groups.map((g: { value: string }) => g.value),
      [group.id],
    );

    // Without Entra's compliance flag: the path names the attribute, the value the members.
    const removedByValue = await entra.patch(
      `Groups/${group.id}`,
      patchOp({ op: 'Remove', path: 'members', value: [{ $ref: null, value: a }] }),
    );
    assert.equal(removedByValue.statusCode, 204, removedByValue.body);
    assert.deepEqual(memberIds(assertScim(await entra.get(`Groups/${group.id}`), 200)), [b]);
    assert.deepEqual(assertScim(await entra.get(`Users/${a}`), 200).groups, []);

    // With it: a value filter in the path (RFC 7644 §3.5.2.2).
    const removedByFilter = await entra.patch(
      `Groups/${group.id}`,
      patchOp({ op: 'Remove', path: `members[value eq "${b}"]` }),
    );
    assert.equal(removedByFilter.statusCode, 204, removedByFilter.body);
    assert.deepEqual(memberIds(assertScim(await entra.get(`Groups/${group.id}`), 200)), []);
    // Both people are still provisioned.
    assert.equal(assertScim(await entra.get(`Users/${b}`), 200).active, true);
  });

  it('answers whether someone is in a group with a filter on id and members, members left out', async () => {
    const t = get();
    const { entra, a, b } = await withPeople(t, 'entra-grp-check');
    const { group } = await entraGroup(entra, 'Checked');
    assert.equal(
      (
        await entra.patch(
          `Groups/${group.id}`,
          patchOp({ op: 'Add', path: 'members', value: [{ value: a }] }),
        )
      ).statusCode,
      204,
    );
    const query = (member: string) =>
      entraFilter(`id eq "${group.id}" and members[value eq "${member}"]`, { excludedAttributes: 'members' });
    const yes = assertList(await entra.get(`Groups?${query(a)}`));
    assert.equal(yes.totalResults, 1);
    assert.equal(yes.Resources[0]?.id, group.id);
    assert.equal(yes.Resources[0]?.members, undefined);
    assertEmptyList(await entra.get(`Groups?${query(b)}`));
    const byValue = assertList(await entra.get(`Groups?${entraFilter(`members.value eq "${a}"`)}`));
    assert.deepEqual(
      byValue.Resources.map((g) => g.id),
      [group.id],
    );
  });

  it('applies a batch of member Adds and Removes in one request, in order', async () => {
    const t = get();
    const { entra, a, b } = await withPeople(t, 'entra-grp-batch');
    const c = (await entraCreate(entra, 'lidia.holloway@entra-grp-batch.example')).id as string;
    const { group } = await entraGroup(entra, 'Batched');
    assert.equal(
      (
        await entra.patch(
          `Groups/${group.id}`,
          patchOp({ op: 'Add', path: 'members', value: [{ value: a }] }),
        )
      ).statusCode,
      204,
    );
    const res = await entra.patch(
      `Groups/${group.id}`,
      patchOp(
        { op: 'Add', path: 'members', value: [{ value: b }, { value: c }] },
        { op: 'Remove', path: 'members', value: [{ value: a }] },
        { op: 'Remove', path: `members[value eq "${c}"]` },
      ),
    );
    assert.equal(res.statusCode, 204, res.body);
    assert.deepEqual(memberIds(assertScim(await entra.get(`Groups/${group.id}`), 200)), [b]);
  });

  it('takes member changes to several groups at once', async () => {
    const t = get();
    const { entra, a, b } = await withPeople(t, 'entra-grp-parallel');
    const groups = await Promise.all(
      ['One', 'Two', 'Three', 'Four'].map(async (name) => (await entraGroup(entra, name)).group.id as string),
    );
    const answers = await Promise.all(
      groups.map((id) =>
        entra.patch(
          `Groups/${id}`,
          patchOp({ op: 'Add', path: 'members', value: [{ value: a }, { value: b }] }),
        ),
      ),
    );
    for (const res of answers) assert.equal(res.statusCode, 204, res.body);
    for (const id of groups)
      assert.deepEqual(memberIds(assertScim(await entra.get(`Groups/${id}`), 200)), [a, b].sort());
    const userA = assertScim(await entra.get(`Users/${a}`), 200);
    assert.deepEqual(userA.groups.map((g: { value: string }) => g.value).sort(), [...groups].sort());
  });

  it('renames a group with a capitalised Replace on displayName', async () => {
    const t = get();
    const { entra, a } = await withPeople(t, 'entra-grp-rename');
    const { group } = await entraGroup(entra, 'Old Team');
    assert.equal(
      (
        await entra.patch(
          `Groups/${group.id}`,
          patchOp({ op: 'Add', path: 'members', value: [{ value: a }] }),
        )
      ).statusCode,
      204,
    );
    const res = await entra.patch(
      `Groups/${group.id}`,
      patchOp({ op: 'Replace', path: 'displayName', value: 'New Team' }),
    );
    assert.equal(res.statusCode, 204, res.body);
    const read = assertScim(await entra.get(`Groups/${group.id}`), 200);
    assert.equal(read.displayName, 'New Team');
    assert.deepEqual(memberIds(read), [a]);
    assertEmptyList(await entra.get(`Groups?${entraFilter('displayName eq "Old Team"')}`));
  });
});
