// Failed sign-in throttling (SPEC §11): per account and per client address, stored in the
// database so every node sees the same counts. An unknown email is throttled exactly like a
// known one, so lockouts reveal nothing about which accounts exist.
import { MINUTE } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import type { Ctx } from '../db/index.ts';
import { sessionErrors } from './errors.ts';
import * as store from './store.ts';

export const THROTTLE_WINDOW_MS = 15 * MINUTE;
export const LOCKOUT_MS = 15 * MINUTE;
export const ACCOUNT_FAILURE_LIMIT = 5;
export const ADDRESS_FAILURE_LIMIT = 30;

export function throttleKeys(
  emailNormalized: string,
  ip: string | undefined,
): { account: string; address?: string } {
  return { account: `account:${emailNormalized}`, address: ip ? `ip:${ip}` : undefined };
}

/** Throws 429 with Retry-After while either key is locked. */
export async function refuseIfLocked(ctx: Ctx, keys: { account: string; address?: string }): Promise<void> {
  const now = ctx.clock.now();
  for (const key of [keys.account, keys.address]) {
    if (!key) continue;
    const row = await store.selectThrottle(ctx, key);
    const lockedUntil =
      row?.locked_until === null || row?.locked_until === undefined ? undefined : Number(row.locked_until);
    if (lockedUntil !== undefined && lockedUntil > now) {
      throw new GatehouseError(sessionErrors.tooManyAttempts, {
        headers: { 'retry-after': String(Math.ceil((lockedUntil - now) / 1000)) },
        detail: key.startsWith('ip:') ? 'address locked' : 'account locked',
      });
    }
  }
}

export async function recordFailedSignIn(
  ctx: Ctx,
  keys: { account: string; address?: string },
): Promise<void> {
  const now = ctx.clock.now();
  const accountFailures = await store.recordFailure(ctx, keys.account, now, THROTTLE_WINDOW_MS);
  if (accountFailures >= ACCOUNT_FAILURE_LIMIT) await store.lockThrottle(ctx, keys.account, now + LOCKOUT_MS);
  if (keys.address) {
    const addressFailures = await store.recordFailure(ctx, keys.address, now, THROTTLE_WINDOW_MS);
    if (addressFailures >= ADDRESS_FAILURE_LIMIT)
      await store.lockThrottle(ctx, keys.address, now + LOCKOUT_MS);
  }
}

export async function clearAccountThrottle(ctx: Ctx, keys: { account: string }): Promise<void> {
  await store.clearThrottle(ctx, keys.account);
}
