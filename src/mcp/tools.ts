// The tools of Gatehouse's MCP server (SPEC §4): what the caller may see, nothing more. Each
// tool names the permission its /v1 twin declares and is admitted by the /v1 guard itself
// (http/guard.ts, handed in as McpGuard): the caller's live role in the org, narrowed by the
// credential (API key's org and read-only flag, OAuth scopes). Each answers with the same
// body as its /v1 twin, and reads through the capability services, never SQL.
import { z } from 'zod';
import type { ApiKeysService } from '../apikeys/index.ts';
import type { AuditService } from '../audit/index.ts';
import type { Authentication } from '../authn/index.ts';
import {
  type Decision,
  decideInOrg,
  type OrgPermission,
  type Permission,
  type SelfPermission,
} from '../authz/index.ts';
import type { Principal } from '../core/context.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../core/pagination.ts';
import type { Ctx } from '../db/index.ts';
import type { OrgAccess, TenancyService } from '../tenancy/index.ts';

/** One tool call: the request's ctx (with its principal) and the credential behind it. */
export interface ToolCall {
  readonly ctx: Ctx;
  readonly auth: Authentication;
}

/**
 * The /v1 route guard's decisions, wired in by app.ts (http sits beside mcp, not below it):
 * the same org lookup and the same refusals, so a tool and its /v1 twin cannot drift apart.
 */
export interface McpGuard {
  /** The org and the caller's live role there once `permission` is allowed; throws the refusal. */
  admitToOrg(ctx: Ctx, auth: Authentication, orgRef: string, permission: OrgPermission): Promise<OrgAccess>;
  /** Throws the refusal when the credential excludes `permission`. */
  admitToSelf(auth: Authentication, permission: SelfPermission): void;
  /** The refusal a negative decision answers with (permission_denied, insufficient_scope, …). */
  refusalFor(decision: Decision, permission: Permission): unknown;
}

export interface ToolDeps {
  readonly tenancy: TenancyService;
  readonly apiKeys: ApiKeysService;
  readonly audit: AuditService;
  readonly guard: McpGuard;
}

export interface McpTool<Input extends z.ZodObject = z.ZodObject> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** The permission the tool's /v1 twin declares; a token's scopes must include it too. */
  readonly permission: Permission;
  /** Validated by the SDK before `run`; unknown arguments are refused, as on /v1. */
  readonly input: Input;
  run(deps: ToolDeps, call: ToolCall, input: z.output<Input>): Promise<Record<string, unknown>>;
}

// The limits of the /v1 routes' TypeBox schemas, in zod for the SDK.
const org = z.string().min(1).max(64).describe('The organization: its slug or id.');
const cursor = z
  .string()
  .max(200)
  .optional()
  .describe('The next_cursor of the previous page; omit for the first page.');
const limit = z.int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).describe('Page size.');
const principalId = (prefixes: string) => z.string().regex(new RegExp(`^(${prefixes})_[0-9a-z]{26}$`));
const time = z.iso.datetime({ offset: true });

/** The caller's orgs and roles, as GET /v1/orgs lists them: a credential bound to one org sees that one. */
async function orgsOfCaller(tenancy: TenancyService, ctx: Ctx, principal: Principal) {
  if (principal.kind === 'service_account') {
    if (principal.orgRestriction === undefined) return [];
    const access = await tenancy.resolveOrgAccess(ctx, principal, principal.orgRestriction);
    return access ? [{ ...access.org, role: access.role }] : [];
  }
  const orgs = await tenancy.listOrgsOfUser(ctx, principal.id);
  const visible =
    principal.orgRestriction === undefined ? orgs : orgs.filter((o) => o.id === principal.orgRestriction);
  return visible.map(({ id, slug, name, role }) => ({ id, slug, name, role }));
}

function defineTool<Input extends z.ZodObject>(tool: McpTool<Input>): McpTool {
  return tool as unknown as McpTool;
}

const whoami = defineTool({
  name: 'whoami',
  title: 'Who am I',
  description:
    'Who the credential acts for: the principal, its user profile, the organizations it may act in with its role in each, and the scopes that narrow it.',
  permission: 'profile:own',
  input: z.strictObject({}),
  async run({ tenancy, guard }, { ctx, auth }) {
    guard.admitToSelf(auth, 'profile:own');
    const { principal } = auth;
    const user = principal.kind === 'user' ? ((await tenancy.getUser(ctx, principal.id)) ?? null) : null;
    return {
      principal: {
        kind: principal.kind,
        id: principal.id,
        auth_method: principal.authMethod,
        read_only: principal.readOnly === true,
        // Absent for credentials no scope narrows (API keys).
        ...(principal.scopes === undefined ? {} : { scopes: [...principal.scopes] }),
      },
      user,
      orgs: await orgsOfCaller(tenancy, ctx, principal),
    };
  },
});

const listOrgs = defineTool({
  name: 'list_orgs',
  title: 'List organizations',
  description: 'The organizations the caller may act in, with its role in each (as GET /v1/orgs).',
  permission: 'profile:own',
  input: z.strictObject({}),
  async run({ tenancy, guard }, { ctx, auth }) {
    guard.admitToSelf(auth, 'profile:own');
    return { data: await orgsOfCaller(tenancy, ctx, auth.principal) };
  },
});

const listProjects = defineTool({
  name: 'list_projects',
  title: 'List projects',
  description: "An organization's projects, a page at a time (as GET /v1/orgs/:org/projects).",
  permission: 'projects:read',
  input: z.strictObject({ org, cursor, limit }),
  async run({ tenancy, guard }, { ctx, auth }, input) {
    const access = await guard.admitToOrg(ctx, auth, input.org, 'projects:read');
    const page = await tenancy.listProjects(ctx, access.org.id, { cursor: input.cursor, limit: input.limit });
    return { data: page.items, next_cursor: page.nextCursor };
  },
});

const listMembers = defineTool({
  name: 'list_members',
  title: 'List members',
  description:
    "An organization's members with their roles and status, a page at a time (as GET /v1/orgs/:org/members).",
  permission: 'members:read',
  input: z.strictObject({
    org,
    role: z.enum(['admin', 'user', 'viewer']).optional().describe('Only members with this role.'),
    status: z
      .enum(['active', 'suspended', 'deprovisioned'])
      .optional()
      .describe('Only members in this status.'),
    cursor,
    limit,
  }),
  async run({ tenancy, guard }, { ctx, auth }, input) {
    const access = await guard.admitToOrg(ctx, auth, input.org, 'members:read');
    const page = await tenancy.listMembers(ctx, access.org.id, {
      cursor: input.cursor,
      limit: input.limit,
      role: input.role,
      status: input.status,
    });
    return { data: page.items, next_cursor: page.nextCursor };
  },
});

const listApiKeys = defineTool({
  name: 'list_api_keys',
  title: 'List API keys',
  description:
    "API keys in an organization (never their secrets): the caller's own, or every key for an admin (as GET /v1/orgs/:org/api-keys).",
  permission: 'apikeys:read',
  input: z.strictObject({
    org,
    owner_id: principalId('usr|sva').optional().describe('Only keys of this user or service account.'),
    include_revoked: z.boolean().default(false).describe('Include revoked keys.'),
    cursor,
    limit,
  }),
  async run({ apiKeys, guard }, { ctx, auth }, input) {
    const access = await guard.admitToOrg(ctx, auth, input.org, 'apikeys:read');
    // As the /v1 route decides it (apikeys/routes.ts): seeing every key is a matter of role and
    // scope, so an admin's read-only key lists them all too.
    const manageAll = decideInOrg({ ...auth.principal, readOnly: false }, access.role, 'apikeys:all').allowed;
    const page = await apiKeys.listApiKeys(
      ctx,
      access.org.id,
      {
        cursor: input.cursor,
        limit: input.limit,
        ownerId: input.owner_id,
        includeRevoked: input.include_revoked,
      },
      { manageAll },
    );
    return { data: page.items, next_cursor: page.nextCursor };
  },
});

const readAuditLog = defineTool({
  name: 'read_audit_log',
  title: 'Read the audit log',
  description:
    "An organization's audit events, newest first, with optional filters (admins only; as GET /v1/orgs/:org/audit).",
  permission: 'audit:read',
  input: z.strictObject({
    org,
    action: z
      .string()
      .max(100)
      .regex(/^[a-z_]+(\.[a-z_]+|\.\*)$/)
      .optional()
      .describe('An action such as api_key.revoked, or a family such as api_key.*'),
    actor_id: z.string().max(64).optional().describe('Only events by this actor.'),
    target_id: z.string().max(64).optional().describe('Only events about this target.'),
    since: time.optional().describe('Only events at or after this time (RFC 3339).'),
    until: time.optional().describe('Only events before this time (RFC 3339).'),
    cursor,
    limit,
  }),
  async run({ audit, guard }, { ctx, auth }, input) {
    const access = await guard.admitToOrg(ctx, auth, input.org, 'audit:read');
    const page = await audit.list(ctx, access.org.id, {
      action: input.action,
      actorId: input.actor_id,
      targetId: input.target_id,
      since: input.since === undefined ? undefined : Date.parse(input.since),
      until: input.until === undefined ? undefined : Date.parse(input.until),
      cursor: input.cursor,
      limit: input.limit,
    });
    return { data: page.items, next_cursor: page.nextCursor };
  },
});

export const mcpTools: readonly McpTool[] = [
  whoami,
  listOrgs,
  listProjects,
  listMembers,
  listApiKeys,
  readAuditLog,
];
