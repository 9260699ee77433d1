// Consent a user gave a client on the consent page (SPEC §4): recorded per user and client
// with the grant it created, so the next authorization of that client skips the page (see
// loadExistingGrant in provider.ts), listed at /v1/me/grants and revoked there, which ends
// every token of those grants at once. Each change is audited in its transaction.
import type { AuditService } from '../audit/index.ts';
import { GatehouseError } from '../core/errors.ts';
import { type Ctx, withTx } from '../db/index.ts';
import { deleteConsentsOf, grantIdsFor, insertConsent, liveConsentsOf } from './consent-store.ts';
import { oauthErrors } from './errors.ts';

export interface ConsentView {
  readonly client: { readonly id: string; readonly name: string | null };
  readonly resource: string;
  readonly scopes: readonly string[];
  readonly granted_at: string;
}

export interface NewConsent {
  readonly grantId: string;
  readonly userId: string;
  readonly clientId: string;
  readonly resource: string;
  readonly scopes: readonly string[];
}

function clientNameOf(payloadJson: string | null): string | null {
  if (payloadJson === null) return null;
  const name = (JSON.parse(payloadJson) as { client_name?: unknown }).client_name;
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

  return {
    record,
    list,
    revoke,
    rememberedGrants: (ctx: Ctx, userId: string, clientId: string) => grantIdsFor(ctx, userId, clientId),
  };
}

export type Consents = ReturnType<typeof createConsents>;
