// Confidential OAuth clients that act as a service account (SPEC §4, client credentials): an
// admin makes one for a service account and is shown its secret once; the client then gets
// access tokens with `grant_type=client_credentials`, and they act as that service account in
// its org, within their scopes and its live role (access-tokens.ts). The library looks the
// client up through the adapter, which asks here for ids of this kind; the secret is opened
// from its envelope only then, in memory. Creating and deleting one is audited.
import type { AuditService } from '../audit/index.ts';
import type { Clock } from '../core/clock.ts';
import {
  decryptSecret,
  encryptSecret,
  type MasterKeyRing,
  parseEnvelope,
  serializeEnvelope,
} from '../core/envelope.ts';
import { GatehouseError } from '../core/errors.ts';
import { idPrefixes, newId } from '../core/ids.ts';
import { generateSecret } from '../core/secrets.ts';
import { type Ctx, type Db, withTx } from '../db/index.ts';
import { oauthErrors } from './errors.ts';
import {
  deleteServiceAccountClient,
  insertServiceAccountClient,
  selectClientWithOwner,
  selectServiceAccountClients,
} from './service-account-client-store.ts';

const CLIENT_ID_PREFIX = `${idPrefixes.serviceAccountClient}_`;
const aadOf = (clientId: string) => `oauth_client_secret:${clientId}`;

export interface ServiceAccountClientView {
  readonly client_id: string;
  readonly name: string;
  readonly service_account_id: string;
  readonly created_by: string | null;
  readonly created_at: string;
}

/** Who a client-credentials client acts as. */
export interface ClientActor {
  readonly serviceAccountId: string;
  readonly enabled: boolean;
  readonly org: { readonly id: string; readonly slug: string; readonly name: string };
  readonly role: string;
}

export interface ServiceAccountClientsDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly keyRing: MasterKeyRing;
  readonly audit: AuditService;
  /** Called in the deleting transaction: the client's tokens stop on every node. */
  readonly onRemoved: (ctx: Ctx, clientId: string) => Promise<void>;
}

export function createServiceAccountClients(deps: ServiceAccountClientsDeps) {
  const { audit } = deps;

  async function create(
    ctx: Ctx,
    input: { orgId: string; serviceAccountId: string; name: string },
  ): Promise<ServiceAccountClientView & { client_secret: string }> {
    const clientId = newId(idPrefixes.serviceAccountClient, ctx.clock.now());
    const secret = generateSecret();
    const createdBy = ctx.principal?.kind === 'user' ? ctx.principal.id : null;
    const now = ctx.clock.now();
    await withTx(ctx, async (tx) => {
      await insertServiceAccountClient(tx, {
        client_id: clientId,
        org_id: input.orgId,
        service_account_id: input.serviceAccountId,
        name: input.name,
        secret_envelope: serializeEnvelope(encryptSecret(deps.keyRing, secret, aadOf(clientId))),
        created_by: createdBy,
        created_at: now,
      });
      await audit.append(tx, {
        orgId: input.orgId,
        action: 'oauth_client.created',
        target: { kind: 'oauth_client', id: clientId },
        data: { service_account_id: input.serviceAccountId, name: input.name },
      });
    });
    return {
      client_id: clientId,
      client_secret: secret,
      name: input.name,
      service_account_id: input.serviceAccountId,
      created_by: createdBy,
      created_at: new Date(now).toISOString(),
    };
  }

  async function list(
    ctx: Ctx,
    orgId: string,
    serviceAccountId: string,
  ): Promise<ServiceAccountClientView[]> {
    const rows = await selectServiceAccountClients(ctx, orgId, serviceAccountId);
    return rows.map((row) => ({ ...row, created_at: new Date(Number(row.created_at)).toISOString() }));
  }

  async function remove(ctx: Ctx, orgId: string, serviceAccountId: string, clientId: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      if (!(await deleteServiceAccountClient(tx, orgId, serviceAccountId, clientId)))
        throw new GatehouseError(oauthErrors.clientNotFound, { field: 'client_id' });
      await deps.onRemoved(tx, clientId);
      await audit.append(tx, {
        orgId,
        action: 'oauth_client.deleted',
        target: { kind: 'oauth_client', id: clientId },
        data: { service_account_id: serviceAccountId },
      });
    });
  }

  /** The client as oidc-provider stores clients, secret opened, for the adapter. */
  async function metadataOf(clientId: string): Promise<Record<string, unknown> | undefined> {
    if (!clientId.startsWith(CLIENT_ID_PREFIX)) return undefined;
    const row = await selectClientWithOwner(deps.db, clientId);
    if (!row) return undefined;
    return {
      client_id: row.client_id,
      client_name: row.name,
      client_secret: decryptSecret(deps.keyRing, parseEnvelope(row.secret_envelope), aadOf(row.client_id)),
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      gatehouse_registration: 'service_account',
    };
  }

  /**
   * The service account a client-credentials token of this client acts as, whether it may, and
   * its org and live role there (read together, as an API key's are).
   */
  async function actorOf(ctx: Ctx, clientId: string): Promise<ClientActor | undefined> {
    if (!clientId.startsWith(CLIENT_ID_PREFIX)) return undefined;
    const row = await selectClientWithOwner(ctx.db, clientId);
    if (!row) return undefined;
    return {
      serviceAccountId: row.service_account_id,
      enabled: row.disabled_at === null,
      org: { id: row.org_id, slug: row.org_slug, name: row.org_name },
      role: row.role,
    };
  }

  return {
    create,
    list,
    remove,
    metadataOf,
    actorOf,
    isServiceAccountClient: (clientId: string) => clientId.startsWith(CLIENT_ID_PREFIX),
  };
}

export type ServiceAccountClients = ReturnType<typeof createServiceAccountClients>;
