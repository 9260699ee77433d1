// Browser sessions and local sign-in (SPEC §3). Sessions are server-side rows keyed by
// the SHA-256 of an opaque 256-bit token; the token lives only in the cookie.
import type { AuditService } from '../audit/index.ts';
import type { CredentialKind } from '../authn/index.ts';
import { isoTime, MINUTE } from '../core/clock.ts';
import type { Principal } from '../core/context.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { verifyPassword } from '../core/passwords.ts';
import { digestSecret, generateSecret } from '../core/secrets.ts';
import { type Ctx, withTx } from '../db/index.ts';
import type { TenancyService, UserLifecycleListener } from '../tenancy/index.ts';
import { DEFAULT_SESSION_ABSOLUTE_LIFETIME_MS, DEFAULT_SESSION_IDLE_TIMEOUT_MS } from '../tenancy/index.ts';
import { type CookieNames, SESSION_TOKEN_PATTERN } from './cookies.ts';
import { sessionErrors } from './errors.ts';
import type { CachedSession, SessionCache } from './session-cache.ts';
import * as store from './store.ts';
import { clearAccountThrottle, recordFailedSignIn, refuseIfLocked, throttleKeys } from './throttle.ts';

/** last_seen_at is written at most this often per session, not on every request. */
const LAST_SEEN_WRITE_INTERVAL_MS = MINUTE;

export interface StartedSession {
  readonly token: string;
  readonly sessionId: string;
  readonly expiresAt: number;
}

export interface SessionSummary {
  id: string;
  auth_method: string;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  current: boolean;
}

export interface SessionsDeps {
  readonly audit: AuditService;
  readonly tenancy: TenancyService;
  readonly cookies: CookieNames;
  readonly revoker: SessionRevoker;
}

/** Audits a user's sign-in event in each org they belong to, or the instance chain if none. */
async function auditForUser(
  ctx: Ctx,
  deps: SessionsDeps,
  userId: string,
  event: { action: string; data?: Record<string, unknown> },
): Promise<void> {
  const orgs = await deps.tenancy.listOrgsOfUser(ctx, userId);
  const actor = { kind: 'user' as const, id: userId };
  const target = { kind: 'user', id: userId };
  if (orgs.length === 0) await deps.audit.append(ctx, { orgId: null, actor, target, ...event });
  for (const org of orgs) await deps.audit.append(ctx, { orgId: org.id, actor, target, ...event });
}

export function createSessionRevoker(audit: AuditService, cache: SessionCache) {
  /** Ends sessions and audits it, inside the caller's transaction. */
  async function revokeUserSessions(
    ctx: Ctx,
    userId: string,
    reason: string,
    auditOrgId: string | null,
    sessionId?: string,
  ): Promise<number> {
    const ended = await store.endSessions(ctx, { userId, sessionId }, reason, ctx.clock.now());
    if (ended.length > 0) {
      await cache.invalidate(ctx, sessionId ?? userId);
      await audit.append(ctx, {
        orgId: auditOrgId,
        action: 'session.revoked',
        target: { kind: 'user', id: userId },
        data: { reason, count: ended.length, session_ids: ended },
      });
    }
    return ended.length;
  }

  const lifecycle: UserLifecycleListener = {
    onUserDeactivated: async (ctx, event) => {
      await revokeUserSessions(ctx, event.userId, event.reason, event.orgId);
    },
    onRoleChanged: async (ctx, event) => {
      await revokeUserSessions(ctx, event.userId, 'role_changed', event.orgId);
    },
  };
  return { revokeUserSessions, lifecycle, cache };
}

export type SessionRevoker = ReturnType<typeof createSessionRevoker>;

export function createSessionsService(deps: SessionsDeps) {
  const { revokeUserSessions } = deps.revoker;

  /** Starts a session after a successful sign-in; `connectionId` names the SSO connection used, if any. */
  async function startSession(
    ctx: Ctx,
    userId: string,
    authMethod: string,
    connectionId?: string,
  ): Promise<StartedSession> {
    return withTx(ctx, async (tx) => {
      const now = tx.clock.now();
      const limits = await store.selectSessionLimits(tx, userId);
      const idle = Number(limits?.idle ?? DEFAULT_SESSION_IDLE_TIMEOUT_MS);
      const absolute = Number(limits?.absolute ?? DEFAULT_SESSION_ABSOLUTE_LIFETIME_MS);
      const token = generateSecret(32);
      const row: store.SessionRow = {
        id: newId('ses', now),
        token_digest: digestSecret(token),
        user_id: userId,
        auth_method: authMethod,
        connection_id: connectionId ?? null,
        ip: tx.ip ?? null,
        user_agent: tx.userAgent?.slice(0, 512) ?? null,
        created_at: now,
        last_seen_at: now,
        idle_timeout_ms: idle,
        expires_at: now + absolute,
        ended_at: null,
        end_reason: null,
      };
      await store.insertSession(tx, row);
      await auditForUser(tx, deps, userId, {
        action: 'user.signed_in',
        data: {
          method: authMethod,
          session_id: row.id,
          ...(connectionId ? { connection_id: connectionId } : {}),
        },
      });
      return { token, sessionId: row.id, expiresAt: row.expires_at };
    });
  }

  const { cache } = deps.revoker;

  /** Records the session as seen at most once a minute per node, not on every request. */
  async function touchIfDue(ctx: Ctx, session: CachedSession, now: number): Promise<void> {
    if (now - session.lastSeenAt < LAST_SEEN_WRITE_INTERVAL_MS) return;
    await store.touchSession(ctx, session.principal.credentialId!, now);
    session.lastSeenAt = now;
  }

  async function resolveSessionToken(ctx: Ctx, token: string): Promise<Principal> {
    if (!SESSION_TOKEN_PATTERN.test(token)) throw new GatehouseError(sessionErrors.sessionInvalid);
    const digest = digestSecret(token);
    const now = ctx.clock.now();
    const cached = cache.get(ctx, digest, now);
    if (cached) {
      await touchIfDue(ctx, cached, now);
      return cached.principal;
    }
    const ticket = cache.ticket();
    const row = await store.selectLiveSessionByDigest(ctx, digest);
    if (!row || row.ended_at !== null || row.user_status !== 'active')
      throw new GatehouseError(sessionErrors.sessionInvalid);
    const lastSeen = Number(row.last_seen_at);
    const expiresAt = Number(row.expires_at);
    const idleTimeoutMs = Number(row.idle_timeout_ms);
    if (now >= expiresAt || now >= lastSeen + idleTimeoutMs) {
      throw new GatehouseError(sessionErrors.sessionExpired);
    }
    const session: CachedSession = {
      principal: {
        kind: 'user',
        id: row.user_id,
        authMethod: `session:${row.auth_method}`,
        credentialId: row.id,
      },
      lastSeenAt: lastSeen,
      idleTimeoutMs,
    };
    await touchIfDue(ctx, session, now);
    cache.remember(ctx, digest, session, expiresAt, ticket, now);
    return session.principal;
  }

  /**
   * Email + password sign-in. Unknown email and wrong password take the same time (a dummy
   * argon2 verification) and give the same answer; failures count towards the lockout.
   */
  async function signInWithPassword(
    ctx: Ctx,
    input: { email: string; password: string },
  ): Promise<StartedSession> {
    const emailNormalized = input.email.trim().toLowerCase();
    const keys = throttleKeys(emailNormalized, ctx.ip);
    await refuseIfLocked(ctx, keys);
    const user = await deps.tenancy.findUserForSignIn(ctx, emailNormalized);
    const passwordOk = await verifyPassword(user?.password_hash, input.password);
    const sso = user
      ? await deps.tenancy.ssoRequirementsFor(ctx, user.id)
      : { refusingOrgIds: [], breakGlassOrgIds: [] };
    // Decided before the password counts, so the answer says nothing about whether it was right.
    if (user && sso.refusingOrgIds.length > 0) {
      await withTx(ctx, async (tx) => {
        for (const orgId of sso.refusingOrgIds)
          await deps.audit.append(tx, {
            orgId,
            action: 'user.sign_in_failed',
            actor: { kind: 'user', id: user.id },
            target: { kind: 'user', id: user.id },
            data: { method: 'password', reason: 'sso_required' },
          });
      });
      throw new GatehouseError(sessionErrors.ssoRequired, { field: 'password' });
    }
    if (!user || !passwordOk) {
      await withTx(ctx, async (tx) => {
        await recordFailedSignIn(tx, keys);
        const reason = !user ? 'unknown_email' : user.password_hash ? 'wrong_password' : 'no_password';
        if (user)
          await auditForUser(tx, deps, user.id, {
            action: 'user.sign_in_failed',
            data: { method: 'password', reason },
          });
        else
          await deps.audit.append(tx, {
            orgId: null,
            action: 'user.sign_in_failed',
            data: { method: 'password', reason },
          });
      });
      throw new GatehouseError(sessionErrors.invalidCredentials, { field: 'password' });
    }
    if (user.status !== 'active') {
      await auditForUser(ctx, deps, user.id, {
        action: 'user.sign_in_failed',
        data: { method: 'password', reason: user.status },
      });
      throw new GatehouseError(sessionErrors.accountSuspended);
    }
    await clearAccountThrottle(ctx, keys);
    return withTx(ctx, async (tx) => {
      // The break-glass admin of an org that requires SSO signed in with a password: audited there.
      for (const orgId of sso.breakGlassOrgIds)
        await deps.audit.append(tx, {
          orgId,
          action: 'user.break_glass_signed_in',
          actor: { kind: 'user', id: user.id },
          target: { kind: 'user', id: user.id },
          data: { method: 'password' },
        });
      return startSession(tx, user.id, 'password');
    });
  }

  /** Ends the session behind a cookie value (sign-out). Unknown tokens are ignored. */
  async function endSessionByToken(ctx: Ctx, token: string): Promise<void> {
    if (!SESSION_TOKEN_PATTERN.test(token)) return;
    await withTx(ctx, async (tx) => {
      const ended = await store.endSessionByDigest(tx, digestSecret(token), 'signed_out', tx.clock.now());
      if (ended) await cache.invalidate(tx, ended.id);
      if (ended)
        await auditForUser(tx, deps, ended.user_id, {
          action: 'user.signed_out',
          data: { session_id: ended.id },
        });
    });
  }

  async function listOwnSessions(ctx: Ctx): Promise<SessionSummary[]> {
    const principal = ctx.principal;
    if (principal?.kind !== 'user') return [];
    const rows = await store.selectLiveSessionsOfUser(ctx, principal.id, ctx.clock.now());
    return rows.map((r) => ({
      id: r.id,
      auth_method: r.auth_method,
      ip: r.ip,
      user_agent: r.user_agent,
      created_at: isoTime(r.created_at),
      last_seen_at: isoTime(r.last_seen_at),
      expires_at: isoTime(r.expires_at),
      current: r.id === principal.credentialId,
    }));
  }

  async function revokeOwnSession(ctx: Ctx, sessionId: string): Promise<void> {
    const principal = ctx.principal;
    if (principal?.kind !== 'user')
      throw new GatehouseError(sessionErrors.sessionNotFound, { field: 'session_id' });
    await withTx(ctx, async (tx) => {
      const count = await revokeUserSessions(tx, principal.id, 'revoked_by_user', null, sessionId);
      if (count === 0) throw new GatehouseError(sessionErrors.sessionNotFound, { field: 'session_id' });
    });
  }

  /** An org admin ends every session of one of the org's members. */
  async function revokeMemberSessions(ctx: Ctx, orgId: string, userId: string): Promise<number> {
    await deps.tenancy.getMember(ctx, orgId, userId);
    return withTx(ctx, (tx) => revokeUserSessions(tx, userId, 'revoked_by_admin', orgId));
  }

  const credentialKind: CredentialKind = {
    id: 'session',
    transport: 'cookie',
    extract: (presented) => presented.cookies[deps.cookies.session],
    resolve: async (ctx, token) => ({ principal: await resolveSessionToken(ctx, token) }),
  };

  return {
    startSession,
    resolveSessionToken,
    signInWithPassword,
    endSessionByToken,
    listOwnSessions,
    revokeOwnSession,
    revokeMemberSessions,
    credentialKind,
  };
}

export type SessionsService = ReturnType<typeof createSessionsService>;
