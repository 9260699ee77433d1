// SCIM filters compiled to SQL (SPEC §5) and run on the real SQLite and PostgreSQL: every
// operator, and/or/not and value paths, case-insensitive and case-exact attributes, dateTime
// ordering and non-ASCII text, against a small table laid out the way a store keeps SCIM users
// (lower-cased columns for attributes that are not caseExact, emails in a side table).
import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { sql } from 'kysely';
import { type ColumnMap, compileFilter, parseScimFilter, userAttributes } from '../../src/scim/index.ts';
import { describeEachBackend } from '../helpers/each-backend.ts';

const MAP: ColumnMap = {
  resourceKey: 'u.user_id',
  scalars: {
    id: { column: 'u.user_id', kind: 'text' },
    userName: { column: 'u.user_name_normalized', kind: 'text', normalized: true },
    externalId: { column: 'u.external_id', kind: 'text' },
    displayName: { column: 'u.display_name_normalized', kind: 'text', normalized: true },
    active: { column: 'u.active', kind: 'boolean' },
    'meta.lastModified': { column: 'u.updated_at', kind: 'instant' },
  },
  multiValued: {
    emails: {
      table: 'scim_probe_emails',
      alias: 'e',
      parentKey: 'user_id',
      subs: { value: { column: 'e.value_normalized', kind: 'text', normalized: true } },
    },
  },
};

interface ProbeUser {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string;
  active: boolean;
  lastModified: string;
  emails: string[];
}

const USERS: ProbeUser[] = [
  {
    id: 'u1',
    userName: 'Ada.Lovelace@example.com',
    externalId: 'EXT-1',
    displayName: 'Ada Lovelace',
    active: true,
    lastModified: '2026-01-01T00:00:00Z',
    emails: ['ada@example.com', 'Ada@Home.example'],
  },
  {
    id: 'u2',
    userName: 'grace@example.com',
    externalId: 'ext-2',
    displayName: 'Grace Hopper',
    active: false,
    lastModified: '2026-02-01T00:00:00Z',
    emails: ['grace@example.com'],
  },
  {
    id: 'u3',
    userName: 'linus@kernel.example',
    externalId: null,
    displayName: '',
    active: true,
    lastModified: '2026-03-01T00:00:00Z',
    emails: [],
  },
  {
    id: 'u4',
    userName: 'Ünïcode@example.com',
    externalId: 'EXT-4',
    displayName: 'Zoë',
    active: true,
    lastModified: '2026-04-01T00:00:00Z',
    emails: ['zoe@example.com'],
  },
];

const CASES: [filter: string, ids: string[]][] = [
  ['userName eq "ada.lovelace@EXAMPLE.com"', ['u1']],
  ['externalId eq "ext-1"', []],
  ['externalId eq "EXT-1"', ['u1']],
  ['externalId sw "EXT"', ['u1', 'u4']],
  ['externalId co "xt-"', ['u2']],
  ['externalId ew "-4"', ['u4']],
  ['userName ew "@EXAMPLE.COM"', ['u1', 'u2', 'u4']],
  ['userName co "LOVE"', ['u1']],
  ['userName sw "ü"', ['u4']],
  ['displayName ew "Ë"', ['u4']],
  ['displayName pr', ['u1', 'u2', 'u4']],
  ['externalId pr', ['u1', 'u2', 'u4']],
  ['active eq false', ['u2']],
  ['active ne true', ['u2']],
  ['userName ne "grace@example.com"', ['u1', 'u3', 'u4']],
  ['externalId ne "EXT-1"', ['u2', 'u3', 'u4']],
  ['meta.lastModified gt "2026-02-01T00:00:00Z"', ['u3', 'u4']],
  ['meta.lastModified ge "2026-02-01T00:00:00Z"', ['u2', 'u3', 'u4']],
  ['meta.lastModified lt "2026-02-01T00:00:00+00:00"', ['u1']],
  ['userName gt "h"', ['u3', 'u4']],
  ['emails.value eq "ADA@home.example"', ['u1']],
  ['emails[value ew "example.com"]', ['u1', 'u2', 'u4']],
  ['not (emails.value pr)', ['u3']],
  ['(active eq true and userName sw "a") or externalId eq "ext-2"', ['u1', 'u2']],
  ['not (userName co "@example.com") and id eq "u3"', ['u3']],
  ['not (userName co "example") and id eq "u3"', []],
  ['id eq "u3" or id eq "U4"', ['u3']],
  ['userName eq "nobody@example.com"', []],
];

describeEachBackend('SCIM filters run in SQL', (get) => {
  before(async () => {
    const db = get().services.database.db;
    await sql`create table scim_probe_users (
      user_id text primary key,
      user_name_normalized text not null,
      external_id text,
      display_name_normalized text,
      active integer not null,
      updated_at bigint not null
    )`.execute(db);
    await sql`create table scim_probe_emails (user_id text not null, value_normalized text not null)`.execute(
      db,
    );
    for (const user of USERS) {
      await sql`insert into scim_probe_users values (${user.id}, ${user.userName.toLowerCase()}, ${user.externalId},
        ${user.displayName.toLowerCase()}, ${user.active ? 1 : 0}, ${Date.parse(user.lastModified)})`.execute(
        db,
      );
      for (const email of user.emails)
        await sql`insert into scim_probe_emails values (${user.id}, ${email.toLowerCase()})`.execute(db);
    }
  });

  for (const [filter, expected] of CASES) {
    it(`finds ${expected.length === 0 ? 'nobody' : expected.join(', ')} for ${filter}`, async () => {
      const condition = compileFilter(parseScimFilter(filter, userAttributes), MAP);
      const found = await sql<{ user_id: string }>`select u.user_id from scim_probe_users as u
        where ${condition} order by u.user_id`.execute(get().services.database.db);
      assert.deepEqual(
        found.rows.map((row) => row.user_id),
        expected,
      );
    });
  }

  it('binds every value as a parameter, whatever it holds', () => {
    const hostile = `x' or 1=1 --`;
    const compiled = compileFilter(parseScimFilter(`userName eq "${hostile}"`, userAttributes), MAP).compile(
      get().services.database.db,
    );
    assert.doesNotMatch(compiled.sql, /or 1=1/);
    assert.deepEqual(compiled.parameters, [hostile]);
  });
});
