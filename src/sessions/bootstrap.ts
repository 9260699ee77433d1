// First start (SPEC §3): with no users, Gatehouse prints a one-time setup link (1 hour)
// that creates the first admin and org; `gatehouse admin create` does the same from a shell.
import type { AuditService } from '../audit/index.ts';
import { HOUR } from '../core/clock.ts';
import { GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import { hashPassword } from '../core/passwords.ts';
import { digestSecret, generateSecret } from '../core/secrets.ts';
import { type Ctx, withTx } from '../db/index.ts';
import type { TenancyService } from '../tenancy/index.ts';
import { checkEmail, checkPassword, checkSlug, tenancyErrors } from '../tenancy/index.ts';
import { sessionErrors } from './errors.ts';
import * as store from './store.ts';

export const SETUP_LINK_LIFETIME_MS = HOUR;

export interface FirstAdminInput {
  email: string;
  name: string;
  password: string;
  orgName: string;
  orgSlug: string;
}

export function createBootstrap(deps: { audit: AuditService; tenancy: TenancyService; publicUrl: string }) {
  /** A fresh setup link while the instance has no users; undefined once anyone exists. */
  async function issueSetupLinkIfEmpty(ctx: Ctx): Promise<string | undefined> {
    if ((await deps.tenancy.countUsers(ctx)) > 0) return undefined;
    const token = generateSecret(32);
    const now = ctx.clock.now();
    await withTx(ctx, async (tx) => {
      await store.insertSetupToken(tx, {
        id: newId('stp', now),
        token_digest: digestSecret(token),
        created_at: now,
        expires_at: now + SETUP_LINK_LIFETIME_MS,
      });
      await deps.audit.append(tx, {
        orgId: null,
        action: 'setup.link_issued',
        actor: { kind: 'system', id: null },
      });
    });
    const url = new URL(`${deps.publicUrl}/setup`);
    url.searchParams.set('token', token);
    return url.href;
  }

  async function isSetupTokenUsable(ctx: Ctx, token: string): Promise<boolean> {
    return (await store.selectUsableSetupToken(ctx, digestSecret(token), ctx.clock.now())) !== undefined;
  }

  function checkFirstAdminInput(input: FirstAdminInput): void {
    checkEmail(input.email);
    checkPassword(input.password);
    checkSlug(input.orgSlug, 'org_slug');
  }

  /** Completes the setup link: the token works once, and only while no user exists. */
  async function completeSetup(
    ctx: Ctx,
    token: string,
    input: FirstAdminInput,
  ): Promise<{ userId: string; orgId: string }> {
    checkFirstAdminInput(input);
    const passwordHash = await hashPassword(input.password);
    return withTx(ctx, async (tx) => {
      if (!(await store.consumeSetupToken(tx, digestSecret(token), tx.clock.now()))) {
        throw new GatehouseError(sessionErrors.setupLinkInvalid, { field: 'token' });
      }
      if ((await deps.tenancy.countUsers(tx)) > 0) throw new GatehouseError(sessionErrors.alreadySetUp);
      const user = await deps.tenancy.createUser(tx, { email: input.email, name: input.name, passwordHash });
      const txAsUser = { ...tx, principal: { kind: 'user' as const, id: user.id, authMethod: 'setup_link' } };
      const org = await deps.tenancy.createOrg(
        txAsUser,
        { slug: input.orgSlug, name: input.orgName },
        user.id,
      );
      await deps.audit.append(txAsUser, {
        orgId: org.id,
        action: 'user.created',
        target: { kind: 'user', id: user.id },
        data: { via: 'setup_link' },
      });
      await deps.audit.append(txAsUser, {
        orgId: org.id,
        action: 'setup.completed',
        target: { kind: 'org', id: org.id },
      });
      return { userId: user.id, orgId: org.id };
    });
  }

  /**
   * `gatehouse admin create`: makes EMAIL an admin of org SLUG, creating either if missing.
   * A new user needs a password; an existing user keeps theirs.
   */
  async function createAdmin(
    ctx: Ctx,
    input: {
      email: string;
      name?: string;
      password?: string;
      /** Already hashed (hashPassword): lets a caller inside a transaction hash before opening it. */
      passwordHash?: string;
      orgSlug: string;
      orgName?: string;
    },
  ): Promise<{ userId: string; orgId: string; createdUser: boolean; createdOrg: boolean }> {
    checkEmail(input.email);
    checkSlug(input.orgSlug, 'org');
    const existingUser = await deps.tenancy.findUserForSignIn(ctx, input.email);
    if (!existingUser && input.password === undefined && input.passwordHash === undefined) {
      throw new GatehouseError(tenancyErrors.weakPassword, {
        field: 'password',
        message: 'A new user needs a password.',
      });
    }
    const passwordHash =
      existingUser || input.password === undefined
        ? existingUser
          ? undefined
          : input.passwordHash
        : await hashPassword(checkPassword(input.password));
    const operator = { ...ctx, principal: undefined };
    return withTx(operator, async (tx) => {
      const actor = { kind: 'system' as const, id: 'cli' };
      const user = existingUser
        ? { id: existingUser.id }
        : await deps.tenancy.createUser(tx, {
            email: input.email,
            name: input.name ?? input.email.split('@')[0] ?? input.email,
            passwordHash,
          });
      const existingOrg = await deps.tenancy.findOrgBySlug(tx, input.orgSlug);
      let orgId: string;
      if (existingOrg) {
        orgId = existingOrg.id;
        const member = await deps.tenancy.getMember(tx, orgId, user.id).catch(() => undefined);
        if (!member)
          await deps.tenancy.addMember(tx, orgId, {
            email: input.email,
            name: input.name ?? '',
            role: 'admin',
          });
        else if (member.role !== 'admin') await deps.tenancy.changeRole(tx, orgId, user.id, 'admin');
      } else {
        orgId = (
          await deps.tenancy.createOrg(
            tx,
            { slug: input.orgSlug, name: input.orgName ?? input.orgSlug },
            user.id,
          )
        ).id;
      }
      if (!existingUser)
        await deps.audit.append(tx, {
          orgId,
          actor,
          action: 'user.created',
          target: { kind: 'user', id: user.id },
          data: { via: 'cli' },
        });
      await deps.audit.append(tx, {
        orgId,
        actor,
        action: 'admin.created_by_cli',
        target: { kind: 'user', id: user.id },
      });
      return { userId: user.id, orgId, createdUser: !existingUser, createdOrg: !existingOrg };
    });
  }

  return { issueSetupLinkIfEmpty, isSetupTokenUsable, completeSetup, createAdmin };
}

export type Bootstrap = ReturnType<typeof createBootstrap>;
