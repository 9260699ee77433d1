// The SCIM service provider's resources (RFC 7644 §3, SPEC §5): Users and Groups of the
// org the SCIM token belongs to. A User is a person's membership as the IdP describes it —
// the document it sent, kept whole, plus indexed copies of what filters use; the account
// and membership behind it are tenancy's. `active: false` (or DELETE) suspends the
// membership and, in the same transaction, ends the person's sessions, keys and grants.
// Every write is one transaction with its audit events; versions make ETags and If-Match.
import type { AuditService } from '../audit/index.ts';
import { isoTime } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { type Ctx, withTx } from '../db/index.ts';
import type { TenancyService } from '../tenancy/index.ts';
import {
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  groupAttributes,
  type ResourceAttributes,
  resolveAttribute,
  USER_SCHEMA,
  userAttributes,
} from './attributes.ts';
import { MAX_PAGE_SIZE } from './discovery.ts';
import { scimErrors } from './errors.ts';
import { compileFilter } from './filter/compile.ts';
import { parseScimFilter } from './filter/parse.ts';
import { applyPatch, type MemberChanges } from './patch/apply.ts';
import { attributeValue, invalidValue, type ScimObject } from './patch/values.ts';
import { type Projection, project } from './projection.ts';
import * as store from './store.ts';

export interface ScimServiceDeps {
  readonly audit: AuditService;
  readonly tenancy: TenancyService;
  /** The public URL of /scim/v2, for `meta.location` and member `$ref`s. */
  readonly baseUrl: string;
}

export interface ListQuery extends Projection {
  readonly filter?: string;
  /** 1-based (RFC 7644 §3.4.2.4); below 1 reads as 1. */
  readonly startIndex?: number;
  readonly count?: number;
}

export interface ListResult {
  readonly totalResults: number;
  readonly startIndex: number;
  readonly resources: ScimObject[];
}

/** A resource as written or read, with the ETag its version makes. */
export interface Versioned {
  readonly resource: ScimObject;
  readonly etag: string;
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_USER_NAME = 256;

export function etagOf(version: number): string {
  return `W/"${version}"`;
}

/** RFC 7232 If-Match against the current version: `*`, or any listed tag, weak or strong. */
function checkIfMatch(ifMatch: string | undefined, version: number): void {
  if (ifMatch === undefined || ifMatch.trim() === '*') return;
  const wanted = `"${version}"`;
  const listed = ifMatch.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (!listed.includes(wanted))
    throw new GatehouseError(scimErrors.preconditionFailed, { field: 'If-Match' });
}

function notFound(): GatehouseError {
  return new GatehouseError(scimErrors.notFound, { field: 'id' });
}

function requireSchema(body: unknown, schema: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new GatehouseError(scimErrors.invalidSyntax, {
      field: 'body',
      message: 'The body must be a JSON object.',
    });
  const schemas = (body as { schemas?: unknown }).schemas;
  if (!Array.isArray(schemas) || !schemas.includes(schema))
    throw new GatehouseError(scimErrors.invalidSyntax, {
      field: 'schemas',
      message: `schemas must hold ${schema}.`,
    });
  return body as Record<string, unknown>;
}

/**
 * The resource's attributes from a POST or PUT body, checked against the catalogue: what the
 * server owns (id, meta, groups) and what is never kept (password) left out, values read as
 * their types (Entra's "True"), extension attributes under their URN; attributes outside
 * the schemas are ignored, as IdPs send their own.
 */
function documentFrom(body: Record<string, unknown>, resource: ResourceAttributes): ScimObject {
  const document: ScimObject = {};
  const keep = (schema: string, key: string, value: unknown, into: ScimObject) => {
    if (value === null || value === undefined) return;
    const attribute = resource.bySchema[schema]?.[key.toLowerCase()];
    if (
      attribute === undefined ||
      attribute.mutability === 'readOnly' ||
      attribute.mutability === 'writeOnly'
    )
      return;
    if (resource.resourceType === 'Group' && attribute.name === 'members') return;
    into[attribute.name] = attributeValue(
      attribute,
      value,
      schema === resource.schemas[0] ? attribute.name : `${schema}:${attribute.name}`,
    );
  };
  for (const [key, value] of Object.entries(body)) {
    if (key === 'schemas') continue;
    const extension = resource.schemas.find(
      (schema, i) => i > 0 && schema.toLowerCase() === key.toLowerCase(),
    );
    if (extension !== undefined) {
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw invalidValue(extension, 'an extension is an object of its attributes');
      const inner: ScimObject = {};
      for (const [name, v] of Object.entries(value)) keep(extension, name, v, inner);
      if (Object.keys(inner).length > 0) document[extension] = inner;
      continue;
    }
    keep(resource.schemas[0] as string, key, value, document);
  }
  return document;
}

/** What a User document says that Gatehouse indexes or acts on. */
interface UserFacts {
  readonly userName: string;
  readonly externalId: string | null;
  readonly displayName: string | null;
  readonly active: boolean;
  /** Lower-cased, for `emails.value` filters. */
  readonly emails: string[];
  /** The account's email: the primary one, else the first, else userName. */
  readonly accountEmail: string;
  readonly accountName: string;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function userFacts(document: ScimObject): UserFacts {
  const userName = text(document.userName);
  if (userName === undefined) throw invalidValue('userName', 'userName is required');
  if (userName.length > MAX_USER_NAME) throw invalidValue('userName', `at most ${MAX_USER_NAME} characters`);
  const emails = (Array.isArray(document.emails) ? (document.emails as ScimObject[]) : [])
    .map((e) => ({ value: text(e.value), primary: e.primary === true }))
    .filter((e): e is { value: string; primary: boolean } => e.value !== undefined);
  const name = (document.name ?? {}) as ScimObject;
  const displayName = text(document.displayName) ?? null;
  const givenAndFamily = [text(name.givenName), text(name.familyName)].filter(Boolean).join(' ');
  const accountName = displayName ?? text(name.formatted) ?? (givenAndFamily || userName);
  return {
    userName,
    externalId: text(document.externalId) ?? null,
    displayName,
    active: document.active === undefined ? true : document.active === true,
    emails: emails.map((e) => e.value.toLowerCase()),
    accountEmail: (emails.find((e) => e.primary) ?? emails[0])?.value ?? userName,
    accountName,
  };
}

function pageOf(query: ListQuery): { offset: number; limit: number; startIndex: number } {
  const startIndex = Math.max(1, Math.trunc(query.startIndex ?? 1));
  const count = Math.min(MAX_PAGE_SIZE, Math.max(0, Math.trunc(query.count ?? DEFAULT_PAGE_SIZE)));
  return { offset: startIndex - 1, limit: count, startIndex };
}

export function createScimService(deps: ScimServiceDeps) {
  const { audit, tenancy, baseUrl } = deps;

  function meta(
    resourceType: 'User' | 'Group',
    id: string,
    created: number,
    updated: number,
    version: number,
  ) {
    return {
      resourceType,
      created: isoTime(created),
      lastModified: isoTime(updated),
      location: `${baseUrl}/${resourceType}s/${id}`,
      version: etagOf(version),
    };
  }

  // Users

  function renderUser(row: store.ScimUserRow, groups: readonly { id: string; name: string }[]): ScimObject {
    const document = JSON.parse(row.document_json) as ScimObject;
    return {
      schemas:
        document[ENTERPRISE_USER_SCHEMA] !== undefined
          ? [USER_SCHEMA, ENTERPRISE_USER_SCHEMA]
          : [USER_SCHEMA],
      id: row.user_id,
      ...document,
      active: row.active === 1,
      groups: groups.map((g) => ({
        value: g.id,
        display: g.name,
        $ref: `${baseUrl}/Groups/${g.id}`,
        type: 'direct',
      })),
      meta: meta('User', row.user_id, row.created_at, row.updated_at, row.version),
    };
  }

  async function readUser(
    ctx: Ctx,
    orgId: string,
    userId: string,
    projection: Projection = {},
  ): Promise<Versioned> {
    const row = await store.selectScimUser(ctx, orgId, userId);
    if (!row) throw notFound();
    const groups = await store.selectGroupsOfUsers(ctx, orgId, [userId]);
    const resource = renderUser(row, groups.get(userId) ?? []);
    return { resource: project(resource, userAttributes, projection), etag: etagOf(row.version) };
  }

  function uniqueUserName(error: unknown): never {
    if (error instanceof store.UserNameTaken)
      throw new GatehouseError(scimErrors.uniqueness, {
        field: 'userName',
        message: 'Another user of this organization has this userName.',
        cause: error,
      });
    throw error;
  }

  function rowFor(
    orgId: string,
    userId: string,
    document: ScimObject,
    facts: UserFacts,
    version: number,
    created: number,
    now: number,
  ): store.ScimUserRow {
    return {
      org_id: orgId,
      user_id: userId,
      user_name: facts.userName,
      user_name_normalized: facts.userName.toLowerCase(),
      external_id: facts.externalId,
      display_name_normalized: facts.displayName?.toLowerCase() ?? null,
      active: facts.active ? 1 : 0,
      document_json: JSON.stringify({ ...document, active: facts.active }),
      version,
      created_at: created,
      updated_at: now,
    };
  }

  /** POST /Users (RFC 7644 §3.3). */
  async function createUser(ctx: Ctx, orgId: string, body: unknown): Promise<Versioned> {
    const document = documentFrom(requireSchema(body, USER_SCHEMA), userAttributes);
    const facts = userFacts(document);
    return withTx(ctx, async (tx) => {
      const joined = await tenancy.joinFromDirectory(tx, orgId, {
        email: facts.accountEmail,
        name: facts.accountName,
      });
      const { userId } = joined;
      const provisioned = joined.joined ? undefined : await store.selectScimUser(tx, orgId, userId);
      if (provisioned !== undefined)
        throw new GatehouseError(scimErrors.uniqueness, {
          field: provisioned.user_name_normalized === facts.userName.toLowerCase() ? 'userName' : 'emails',
          message: `This person is already provisioned in this organization (id ${userId}).`,
        });
      const now = tx.clock.now();
      const row = rowFor(orgId, userId, document, facts, 1, now, now);
      await store.insertScimUser(tx, row, facts.emails).catch(uniqueUserName);
      if (!facts.active) await deactivate(tx, orgId, userId);
      // One event for the account, the membership and the resource, written last (see joinFromDirectory).
      await audit.append(tx, {
        orgId,
        action: 'scim.user_provisioned',
        target: { kind: 'user', id: userId },
        data: {
          user_name: facts.userName,
          external_id: facts.externalId,
          active: facts.active,
          account_created: joined.accountCreated,
          joined: joined.joined,
          role: joined.role,
          role_source: joined.roleSource,
        },
      });
      return { resource: renderUser(row, []), etag: etagOf(row.version) };
    });
  }

  async function deactivate(tx: Ctx, orgId: string, userId: string): Promise<void> {
    await tenancy.setMembershipActive(tx, orgId, userId, false);
    await audit.append(tx, {
      orgId,
      action: 'scim.user_deprovisioned',
      target: { kind: 'user', id: userId },
    });
  }

  /** Writes a new document over the stored one: PUT and PATCH end here. */
  async function writeUser(
    tx: Ctx,
    orgId: string,
    current: store.ScimUserRow,
    document: ScimObject,
  ): Promise<Versioned> {
    const facts = userFacts(document);
    const now = tx.clock.now();
    const row = rowFor(orgId, current.user_id, document, facts, current.version + 1, current.created_at, now);
    const written = await store.updateScimUser(tx, row, current.version, facts.emails).catch(uniqueUserName);
    // A concurrent write moved the version between our read and this update.
    if (!written) throw new GatehouseError(scimErrors.preconditionFailed, { field: 'If-Match' });
    await audit.append(tx, {
      orgId,
      action: 'scim.user_updated',
      target: { kind: 'user', id: current.user_id },
      data: { user_name: facts.userName, external_id: facts.externalId, version: row.version },
    });
    const wasActive = current.active === 1;
    if (wasActive && !facts.active) await deactivate(tx, orgId, current.user_id);
    if (!wasActive && facts.active) {
      await tenancy.setMembershipActive(tx, orgId, current.user_id, true);
      await audit.append(tx, {
        orgId,
        action: 'scim.user_reactivated',
        target: { kind: 'user', id: current.user_id },
      });
    }
    const groups = await store.selectGroupsOfUsers(tx, orgId, [current.user_id]);
    return { resource: renderUser(row, groups.get(current.user_id) ?? []), etag: etagOf(row.version) };
  }

  async function currentUser(tx: Ctx, orgId: string, userId: string, ifMatch: string | undefined) {
    const current = await store.selectScimUser(tx, orgId, userId);
    if (!current) throw notFound();
    checkIfMatch(ifMatch, current.version);
    return current;
  }

  /** PUT /Users/:id (RFC 7644 §3.5.1): the body replaces the resource. */
  async function replaceUser(
    ctx: Ctx,
    orgId: string,
    userId: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<Versioned> {
    const document = documentFrom(requireSchema(body, USER_SCHEMA), userAttributes);
    return withTx(ctx, async (tx) =>
      writeUser(tx, orgId, await currentUser(tx, orgId, userId, ifMatch), document),
    );
  }

  /** PATCH /Users/:id (RFC 7644 §3.5.2), as patch/apply.ts reads it. */
  async function patchUser(
    ctx: Ctx,
    orgId: string,
    userId: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<Versioned> {
    return withTx(ctx, async (tx) => {
      const current = await currentUser(tx, orgId, userId, ifMatch);
      const stored = JSON.parse(current.document_json) as ScimObject;
      const { document } = applyPatch(stored, body, userAttributes);
      return writeUser(tx, orgId, current, document);
    });
  }

  /** DELETE /Users/:id: deprovisioned as by `active: false`, then out of the org. */
  async function deleteUser(ctx: Ctx, orgId: string, userId: string, ifMatch?: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const current = await currentUser(tx, orgId, userId, ifMatch);
      if (current.active === 1) await tenancy.setMembershipActive(tx, orgId, userId, false);
      await store.deleteScimUser(tx, orgId, userId);
      await tenancy.removeFromDirectory(tx, orgId, userId);
      await audit.append(tx, {
        orgId,
        action: 'scim.user_deleted',
        target: { kind: 'user', id: userId },
        data: { user_name: current.user_name, external_id: current.external_id },
      });
    });
  }

  async function listUsers(ctx: Ctx, orgId: string, query: ListQuery): Promise<ListResult> {
    const condition =
      query.filter === undefined
        ? undefined
        : compileFilter(parseScimFilter(query.filter, userAttributes), store.USER_COLUMNS);
    const page = pageOf(query);
    const { total, rows } = await store.selectScimUsers(ctx, orgId, condition, page);
    const wantsGroups = wantsAttribute(query, userAttributes, 'groups');
    const groups = wantsGroups
      ? await store.selectGroupsOfUsers(
          ctx,
          orgId,
          rows.map((r) => r.user_id),
        )
      : new Map<string, { id: string; name: string }[]>();
    return {
      totalResults: total,
      startIndex: page.startIndex,
      resources: rows.map((row) =>
        project(renderUser(row, groups.get(row.user_id) ?? []), userAttributes, query),
      ),
    };
  }

  // Groups

  function renderGroup(
    row: store.ScimGroupRow,
    members: readonly { id: string; name: string }[] | undefined,
  ): ScimObject {
    return {
      schemas: [GROUP_SCHEMA],
      id: row.id,
      displayName: row.name,
      ...(row.external_id !== null ? { externalId: row.external_id } : {}),
      ...(members !== undefined
        ? {
            members: members.map((m) => ({
              value: m.id,
              display: m.name,
              $ref: `${baseUrl}/Users/${m.id}`,
              type: 'User',
            })),
          }
        : {}),
      meta: meta('Group', row.id, row.created_at, row.updated_at, row.version),
    };
  }

  async function readGroup(
    ctx: Ctx,
    orgId: string,
    groupId: string,
    projection: Projection = {},
  ): Promise<Versioned> {
    const row = await store.selectScimGroup(ctx, orgId, groupId);
    if (!row) throw notFound();
    const members = wantsAttribute(projection, groupAttributes, 'members')
      ? ((await store.selectMembersOfGroups(ctx, [groupId])).get(groupId) ?? [])
      : undefined;
    return {
      resource: project(renderGroup(row, members), groupAttributes, projection),
      etag: etagOf(row.version),
    };
  }

  /** The members a POST or PUT body lists (Okta sends them there as well as by PATCH). */
  function listedMembers(body: Record<string, unknown>): Set<string> | undefined {
    const key = Object.keys(body).find((k) => k.toLowerCase() === 'members');
    if (key === undefined || body[key] === null) return undefined;
    const members = body[key];
    if (!Array.isArray(members)) throw invalidValue('members', 'members is a list of {"value": id}');
    return new Set(
      members.map((m, i) => {
        const id = (m as { value?: unknown } | null)?.value;
        if (typeof id !== 'string' || id === '')
          throw invalidValue(`members[${i}]`, 'each member needs a string "value"');
        return id;
      }),
    );
  }

  function groupFacts(document: ScimObject): { name: string; externalId: string | null } {
    const name = text(document.displayName);
    if (name === undefined) throw invalidValue('displayName', 'displayName is required');
    if (name.length > 256) throw invalidValue('displayName', 'at most 256 characters');
    return { name, externalId: text(document.externalId) ?? null };
  }

  async function applyMembers(
    tx: Ctx,
    orgId: string,
    groupId: string,
    changes: MemberChanges,
  ): Promise<void> {
    if (changes.replaceWith === undefined && changes.add.size === 0 && changes.remove.size === 0) return;
    await tenancy.changeGroupMembers(tx, orgId, groupId, changes);
  }

  /** POST /Groups. */
  async function createGroup(ctx: Ctx, orgId: string, body: unknown): Promise<Versioned> {
    const checked = requireSchema(body, GROUP_SCHEMA);
    const facts = groupFacts(documentFrom(checked, groupAttributes));
    const members = listedMembers(checked);
    return withTx(ctx, async (tx) => {
      const group = await tenancy.createDirectoryGroup(tx, orgId, facts);
      if (members !== undefined && members.size > 0)
        await applyMembers(tx, orgId, group.id, { add: members, remove: new Set() });
      return readGroup(tx, orgId, group.id);
    });
  }

  async function currentGroup(tx: Ctx, orgId: string, groupId: string, ifMatch: string | undefined) {
    const current = await store.selectScimGroup(tx, orgId, groupId);
    if (!current) throw notFound();
    checkIfMatch(ifMatch, current.version);
    return current;
  }

  /** PUT /Groups/:id: name, externalId and — when listed — the whole member list. */
  async function replaceGroup(
    ctx: Ctx,
    orgId: string,
    groupId: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<Versioned> {
    const checked = requireSchema(body, GROUP_SCHEMA);
    const facts = groupFacts(documentFrom(checked, groupAttributes));
    const members = listedMembers(checked);
    return withTx(ctx, async (tx) => {
      await currentGroup(tx, orgId, groupId, ifMatch);
      await tenancy.updateDirectoryGroup(tx, orgId, groupId, facts);
      await applyMembers(tx, orgId, groupId, {
        replaceWith: members ?? new Set(),
        add: new Set(),
        remove: new Set(),
      });
      return readGroup(tx, orgId, groupId);
    });
  }

  /** PATCH /Groups/:id: answered without the members (204), which may number thousands. */
  async function patchGroup(
    ctx: Ctx,
    orgId: string,
    groupId: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<string> {
    return withTx(ctx, async (tx) => {
      const current = await currentGroup(tx, orgId, groupId, ifMatch);
      const stored: ScimObject = {
        displayName: current.name,
        ...(current.external_id !== null ? { externalId: current.external_id } : {}),
      };
      const { document, members } = applyPatch(stored, body, groupAttributes);
      const facts = groupFacts(document);
      if (facts.name !== current.name || facts.externalId !== current.external_id)
        await tenancy.updateDirectoryGroup(tx, orgId, groupId, facts);
      await applyMembers(tx, orgId, groupId, members);
      const after = await store.selectScimGroup(tx, orgId, groupId);
      return etagOf(after?.version ?? current.version);
    });
  }

  async function deleteGroup(ctx: Ctx, orgId: string, groupId: string, ifMatch?: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      await currentGroup(tx, orgId, groupId, ifMatch);
      await tenancy.deleteDirectoryGroup(tx, orgId, groupId);
    });
  }

  async function listGroups(ctx: Ctx, orgId: string, query: ListQuery): Promise<ListResult> {
    const condition =
      query.filter === undefined
        ? undefined
        : compileFilter(parseScimFilter(query.filter, groupAttributes), store.GROUP_COLUMNS);
    const page = pageOf(query);
    const { total, rows } = await store.selectScimGroups(ctx, orgId, condition, page);
    const members = wantsAttribute(query, groupAttributes, 'members')
      ? await store.selectMembersOfGroups(
          ctx,
          rows.map((r) => r.id),
        )
      : undefined;
    return {
      totalResults: total,
      startIndex: page.startIndex,
      resources: rows.map((row) =>
        project(
          renderGroup(row, members === undefined ? undefined : (members.get(row.id) ?? [])),
          groupAttributes,
          query,
        ),
      ),
    };
  }

  return {
    createUser,
    getUser: readUser,
    replaceUser,
    patchUser,
    deleteUser,
    listUsers,
    createGroup,
    getGroup: readGroup,
    replaceGroup,
    patchGroup,
    deleteGroup,
    listGroups,
  };
}

/** Whether a response will carry `name` at all, so it is not read for nothing. */
function wantsAttribute(projection: Projection, resource: ResourceAttributes, name: string): boolean {
  const names = (list: string | undefined) =>
    (list ?? '')
      .split(',')
      .map((raw) => resolveAttribute(resource, raw.trim())?.attribute.name)
      .filter((n): n is string => n !== undefined);
  if (projection.attributes !== undefined && projection.attributes.trim() !== '')
    return names(projection.attributes).includes(name);
  return !names(projection.excludedAttributes).includes(name);
}

export type ScimService = ReturnType<typeof createScimService>;
