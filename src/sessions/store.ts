// SQL for sessions, the sign-in throttle and setup tokens.
import { sql } from 'kysely';
import type { Ctx, SessionsTable } from '../db/index.ts';

export type SessionRow = SessionsTable;

export async function insertSession(ctx: Ctx, row: SessionRow): Promise<void> {
  await ctx.db.insertInto('sessions').values(row).execute();
}

export function selectLiveSessionByDigest(ctx: Ctx, digest: string) {
  return ctx.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id',
      'sessions.user_id',
      'sessions.auth_method',
      'sessions.last_seen_at',
      'sessions.idle_timeout_ms',
      'sessions.expires_at',
      'sessions.ended_at',
      'users.status as user_status',
    ])
    .where('sessions.token_digest', '=', digest)
    .executeTakeFirst();
}

export async function touchSession(ctx: Ctx, id: string, now: number): Promise<void> {
  await ctx.db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
}

/** Ends the matching live sessions and returns the ids it ended. */
export async function endSessions(
  ctx: Ctx,
  where: { userId: string; sessionId?: string },
  reason: string,
  now: number,
): Promise<string[]> {
  let query = ctx.db
    .updateTable('sessions')
    .set({ ended_at: now, end_reason: reason })
    .where('user_id', '=', where.userId)
    .where('ended_at', 'is', null);
  if (where.sessionId) query = query.where('id', '=', where.sessionId);
  const rows = await query.returning('id').execute();
  return rows.map((r) => r.id);
}

export async function endSessionByDigest(ctx: Ctx, digest: string, reason: string, now: number) {
  return ctx.db
    .updateTable('sessions')
    .set({ ended_at: now, end_reason: reason })
    .where('token_digest', '=', digest)
    .where('ended_at', 'is', null)
    .returning(['id', 'user_id'])
    .executeTakeFirst();
}

export function selectLiveSessionsOfUser(ctx: Ctx, userId: string, now: number) {
  return ctx.db
    .selectFrom('sessions')
    .select(['id', 'auth_method', 'ip', 'user_agent', 'created_at', 'last_seen_at', 'expires_at'])
    .where('user_id', '=', userId)
    .where('ended_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('id', 'desc')
    .execute();
}

/** Idle and absolute limits of a new session: the strictest of the user's orgs. */
export async function selectSessionLimits(ctx: Ctx, userId: string) {
  return ctx.db
    .selectFrom('memberships')
    .innerJoin('orgs', 'orgs.id', 'memberships.org_id')
    .select((eb) => [
      eb.fn.min('orgs.session_idle_timeout_ms').as('idle'),
      eb.fn.min('orgs.session_absolute_lifetime_ms').as('absolute'),
    ])
    .where('memberships.user_id', '=', userId)
    .executeTakeFirst();
}

export function selectThrottle(ctx: Ctx, key: string) {
  return ctx.db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
}

/**
 * Counts one failure atomically (one statement, so concurrent failures on two nodes both
 * count) and starts a fresh window when the old one has passed. Returns the new count.
 */
export async function recordFailure(ctx: Ctx, key: string, now: number, windowMs: number): Promise<number> {
  const windowStart = now - windowMs;
  const row = await ctx.db
    .insertInto('login_throttle')
    .values({ key, failures: 1, window_started_at: now, locked_until: null })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        failures: sql<number>`case when login_throttle.window_started_at < ${windowStart} then 1 else login_throttle.failures + 1 end`,
        window_started_at: sql<number>`case when login_throttle.window_started_at < ${windowStart} then ${now} else login_throttle.window_started_at end`,
      }),
    )
    .returning('failures')
    .executeTakeFirstOrThrow();
  return Number(row.failures);
}

export async function lockThrottle(ctx: Ctx, key: string, until: number): Promise<void> {
  await ctx.db.updateTable('login_throttle').set({ locked_until: until }).where('key', '=', key).execute();
}

export async function clearThrottle(ctx: Ctx, key: string): Promise<void> {
  await ctx.db.deleteFrom('login_throttle').where('key', '=', key).execute();
}

export async function insertSetupToken(
  ctx: Ctx,
  row: { id: string; token_digest: string; created_at: number; expires_at: number },
) {
  await ctx.db
    .insertInto('setup_tokens')
    .values({ ...row, used_at: null })
    .execute();
}

/** Marks the token used if it is still valid; returns whether it was. One statement, so a link works once. */
export async function consumeSetupToken(ctx: Ctx, digest: string, now: number): Promise<boolean> {
  const row = await ctx.db
    .updateTable('setup_tokens')
    .set({ used_at: now })
    .where('token_digest', '=', digest)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export function selectUsableSetupToken(ctx: Ctx, digest: string, now: number) {
  return ctx.db
    .selectFrom('setup_tokens')
    .select('id')
    .where('token_digest', '=', digest)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}
