// Consent a user gave a client on the consent page (SPEC §4): recorded per user and client
// with the grant it created, so the next authorization of that client skips the page (see
// loadExistingGrant in provider.ts), listed at /v1/me/grants and revoked there, which ends
// every token of those grants at once. Each change is audited in its transaction.
import type { AuditService } from '../audit/index.ts';
import { GatehouseError } from '../core/errors.ts';
import { type Ctx, withTx } from '../db/index.ts';
import {
  clientsAuthorizedInOrg,
  deleteConsentsOf,
  deleteGrant,
  deleteGrantsOfUser,
  grantIdsFor,
  insertConsent,
  liveConsentsOf,
  membersWhoAuthorized,
} from './consent-store.ts';
import { oauthErrors } from './errors.ts';

export interface ConsentView {
  readonly client: { readonly id: string; readonly name: string | null };
  readonly resource: string;
  readonly scopes: readonly string[];
  readonly granted_at: string;
}

/** A client as an org admin sees it: which members authorized it, and what it registered. */
export interface AuthorizedClientView {
  readonly client: { readonly id: string; readonly name: string | null };
  /** How it was registered: `dynamic` (RFC 7591), `metadata_document` (its client_id URL), or `admin`. */
  readonly registration: string;
  readonly redirect_uris: readonly string[];
  readonly members: number;
  readonly last_authorized_at: string;
}

export interface NewConsent {
  readonly grantId: string;
  readonly userId: string;
  readonly clientId: string;
  readonly resource: string;
  readonly scopes: readonly string[];
}

interface StoredClient {
  readonly client_name?: unknown;
  readonly redirect_uris?: unknown;
  readonly gatehouse_registration?: unknown;
}

function storedClient(payloadJson: string | null): StoredClient {
  return payloadJson === null ? {} : (JSON.parse(payloadJson) as StoredClient);
}

function clientNameOf(payloadJson: string | null): string | null {
  const name = storedClient(payloadJson).client_name;
  return typeof name === 'string' ? name : null;
}

export interface ConsentsDeps {
  readonly audit: AuditService;
  /** Called in the revoking transaction for each grant removed (access tokens drop it on every node). */
  readonly onRevoked: (ctx: Ctx, grantId: string) => Promise<void>;
}

export function createConsents(deps: ConsentsDeps) {
  const { audit } = deps;

  async function record(ctx: Ctx, consent: NewConsent): Promise<void> {
    await withTx(ctx, async (tx) => {
      await insertConsent(tx, {
        grant_id: consent.grantId,
        user_id: consent.userId,
        client_id: consent.clientId,
        resource: consent.resource,
        scope: consent.scopes.join(' '),
        created_at: tx.clock.now(),
      });
      await audit.append(tx, {
        orgId: null,
        action: 'oauth_consent.granted',
        actor: { kind: 'user', id: consent.userId },
        target: { kind: 'oauth_client', id: consent.clientId },
        data: { resource: consent.resource, scopes: consent.scopes },
      });
    });
  }

  async function list(ctx: Ctx, userId: string): Promise<ConsentView[]> {
    const rows = await liveConsentsOf(ctx, userId, ctx.clock.now());
    return rows.map((row) => ({
      client: { id: row.client_id, name: clientNameOf(row.client_json) },
      resource: row.resource,
      scopes: row.scope.split(' ').filter(Boolean),
      granted_at: new Date(Number(row.created_at)).toISOString(),
    }));
  }

  /** Revokes everything the user granted the client; their tokens stop working at once. */
  async function revoke(ctx: Ctx, userId: string, clientId: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const grants = await deleteConsentsOf(tx, userId, clientId);
      if (grants.length === 0) throw new GatehouseError(oauthErrors.consentNotFound, { field: 'client_id' });
      for (const grantId of grants) await deps.onRevoked(tx, grantId);
      await audit.append(tx, {
        orgId: null,
        action: 'oauth_consent.revoked',
        actor: { kind: 'user', id: userId },
        target: { kind: 'oauth_client', id: clientId },
        data: { grants: grants.length },
      });
    });
  }

  async function listInOrg(ctx: Ctx, orgId: string): Promise<AuthorizedClientView[]> {
    const rows = await clientsAuthorizedInOrg(ctx, orgId, ctx.clock.now());
    return rows.map((row) => {
      const stored = storedClient(row.client_json);
      return {
        client: { id: row.client_id, name: clientNameOf(row.client_json) },
        registration:
          typeof stored.gatehouse_registration === 'string' ? stored.gatehouse_registration : 'admin',
        redirect_uris: Array.isArray(stored.redirect_uris) ? stored.redirect_uris.map(String) : [],
        members: Number(row.users),
        last_authorized_at: new Date(Number(row.last_authorized_at)).toISOString(),
      };
    });
  }

  /**
   * An org admin's revocation: every member's consent to the client, with their tokens.
   * Tokens act for a user, not an org, so a member's consent ends for all their orgs.
   */
  async function revokeInOrg(ctx: Ctx, orgId: string, clientId: string): Promise<number> {
    return withTx(ctx, async (tx) => {
      const members = await membersWhoAuthorized(tx, orgId, clientId);
      let grants = 0;
      for (const userId of members) {
        const removed = await deleteConsentsOf(tx, userId, clientId);
        for (const grantId of removed) await deps.onRevoked(tx, grantId);
        grants += removed.length;
      }
      if (grants === 0) throw new GatehouseError(oauthErrors.consentNotFound, { field: 'client_id' });
      await audit.append(tx, {
        orgId,
        action: 'oauth_client.revoked',
        target: { kind: 'oauth_client', id: clientId },
        data: { members: members.length, grants },
      });
      return members.length;
    });
  }

  /**
   * A client revoking one of its user's access tokens at /oauth/revoke (RFC 7009): JWTs are not
   * stored, so the grant it was issued under goes, with its refresh token (§2.1 allows it).
   */
  async function revokeGrant(ctx: Ctx, grantId: string, clientId: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      if (!(await deleteGrant(tx, grantId))) return;
      await deps.onRevoked(tx, grantId);
      await audit.append(tx, {
        orgId: null,
        action: 'oauth_grant.revoked',
        actor: { kind: 'anonymous', id: null },
        target: { kind: 'oauth_client', id: clientId },
        data: { reason: 'access token revoked by the client' },
      });
    });
  }

  /**
   * Every grant of a user an IdP deprovisioned: refresh tokens and what else was issued under
   * them go, and access tokens are refused once the grant is gone (onRevoked, every node).
   */
  async function revokeGrantsOfUser(
    ctx: Ctx,
    userId: string,
    orgId: string,
    reason: string,
  ): Promise<number> {
    return withTx(ctx, async (tx) => {
      const grantIds = await deleteGrantsOfUser(tx, userId);
      for (const grantId of grantIds) await deps.onRevoked(tx, grantId);
      if (grantIds.length > 0)
        await audit.append(tx, {
          orgId,
          action: 'oauth_grant.revoked',
          target: { kind: 'user', id: userId },
          data: { reason, grants: grantIds.length },
        });
      return grantIds.length;
    });
  }

  return {
    record,
    revokeGrantsOfUser,
    list,
    revoke,
    revokeGrant,
    listInOrg,
    revokeInOrg,
    rememberedGrants: (ctx: Ctx, userId: string, clientId: string) => grantIdsFor(ctx, userId, clientId),
  };
}

export type Consents = ReturnType<typeof createConsents>;
