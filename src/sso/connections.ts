// SSO connections (SPEC §3): an org's OIDC and SAML identity providers, configured by its
// admins. Settings are plain JSON; an OIDC client secret or private key is kept only as an
// envelope under the master key and never returned. For private_key_jwt Gatehouse makes the
// key pair itself and shows the public JWK, which the admin registers at the IdP. A SAML
// connection is configured from the IdP's metadata (XML or URL) or by hand.
import { exportJWK, generateKeyPair } from 'jose';
import type { AuditService } from '../audit/index.ts';
import { isoTime } from '../core/clock.ts';
import { commonErrors, GatehouseError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import {
  decryptSecret,
  encryptSecret,
  type MasterKeyRing,
  parseEnvelope,
  serializeEnvelope,
} from '../core/secrets.ts';
import { type Ctx, withTx } from '../db/index.ts';
import { ssoErrors } from './errors.ts';
import {
  type ClientAuthMethod,
  isAcceptableIssuer,
  type OidcConnection,
  type OidcSecret,
  type OidcSettings,
} from './oidc/client.ts';
import { findPreset } from './presets.ts';
import {
  createSamlConnectionSettings,
  type SamlConnectionInput,
  type SamlConnectionView,
} from './saml/connection-settings.ts';
import type { SamlSettings } from './saml/service-provider.ts';
import * as store from './store.ts';

export interface OidcConnectionView {
  id: string;
  type: 'oidc';
  name: string;
  preset: string;
  enabled: boolean;
  issuer: string;
  client_id: string;
  token_endpoint_auth_method: ClientAuthMethod;
  scopes: string[];
  groups_claim: string;
  use_userinfo: boolean;
  /** Only whether a secret is stored, never the secret. */
  has_client_secret: boolean;
  /** For private_key_jwt: the public key to register at the IdP. */
  public_jwk: Record<string, unknown> | null;
  redirect_uri: string;
  created_at: string;
  updated_at: string;
}

export type ConnectionView = OidcConnectionView | SamlConnectionView;

export interface NewConnectionInput extends SamlConnectionInput {
  type: string;
  name: string;
  preset?: string;
  issuer?: string;
  client_id?: string;
  client_secret?: string;
  token_endpoint_auth_method?: ClientAuthMethod;
  scopes?: string[];
  groups_claim?: string;
  use_userinfo?: boolean;
  enabled?: boolean;
}

/** Anything but the type and the preset may change; OIDC fields apply to OIDC connections, SAML ones to SAML. */
export type ConnectionPatch = Partial<
  Omit<NewConnectionInput, 'type' | 'preset' | 'token_endpoint_auth_method'>
>;

/** What is stored encrypted: the client secret, or the private key (with its public half for display). */
type StoredSecret = OidcSecret & { readonly publicJwk?: Record<string, unknown> };

interface LoadedCommon {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
  readonly preset: string;
  readonly enabled: boolean;
  readonly social: boolean;
  readonly updatedAt: number;
}

export type LoadedOidcConnection = LoadedCommon & OidcConnection & { readonly type: 'oidc' };
export type LoadedSamlConnection = LoadedCommon & { readonly type: 'saml'; readonly settings: SamlSettings };
export type LoadedConnection = LoadedOidcConnection | LoadedSamlConnection;

export interface ConnectionDeps {
  readonly audit: AuditService;
  readonly keyRing: MasterKeyRing;
  readonly redirectUri: string;
  readonly publicUrl: string;
  /** Which issuer and metadata URLs may be fetched: https, or http on loopback. */
  readonly acceptableUrl: (url: string) => boolean;
  /** Drops a connection's cached discovery when it changes. */
  readonly onChanged: (connectionId: string) => void;
}

const normalize = (name: string) => name.trim().toLowerCase();

function checkIssuer(issuer: string | undefined): string {
  if (!issuer || !isAcceptableIssuer(issuer))
    throw new GatehouseError(ssoErrors.invalidIssuer, { field: 'issuer' });
  return issuer;
}

function withOpenid(scopes: readonly string[]): string[] {
  const unique = [...new Set(scopes.map((s) => s.trim()).filter(Boolean))];
  return unique.includes('openid') ? unique : ['openid', ...unique];
}

export function createConnectionFunctions(deps: ConnectionDeps) {
  const saml = createSamlConnectionSettings(deps);
  const aad = (connectionId: string) => `sso_connection:${connectionId}`;

  function sealSecret(connectionId: string, secret: StoredSecret): string {
    return serializeEnvelope(encryptSecret(deps.keyRing, JSON.stringify(secret), aad(connectionId)));
  }

  function openSecret(row: store.ConnectionRow): StoredSecret | undefined {
    if (row.secret_envelope === null) return undefined;
    return JSON.parse(
      decryptSecret(deps.keyRing, parseEnvelope(row.secret_envelope), aad(row.id)),
    ) as StoredSecret;
  }

  function toView(row: store.ConnectionRow): ConnectionView {
    if (row.type === 'saml') return saml.view(row);
    const settings = JSON.parse(row.settings_json) as OidcSettings;
    const secret = openSecret(row);
    return {
      id: row.id,
      type: 'oidc',
      name: row.name,
      preset: row.preset,
      enabled: row.enabled === 1,
      issuer: settings.issuer,
      client_id: settings.client_id,
      token_endpoint_auth_method: settings.token_endpoint_auth_method,
      scopes: [...settings.scopes],
      groups_claim: settings.groups_claim,
      use_userinfo: settings.use_userinfo,
      has_client_secret: secret?.kind === 'client_secret',
      public_jwk: secret?.kind === 'private_key' ? (secret.publicJwk ?? null) : null,
      redirect_uri: deps.redirectUri,
      created_at: isoTime(row.created_at),
      updated_at: isoTime(row.updated_at),
    };
  }

  async function newKeyPair(): Promise<StoredSecret> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = newId('ssc').slice(4);
    const jwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    return { kind: 'private_key', jwk, publicJwk };
  }

  async function oidcParts(input: NewConnectionInput) {
    const presetId = input.preset ?? 'generic_oidc';
    const preset = findPreset(presetId);
    if (!preset) throw new GatehouseError(ssoErrors.unknownPreset, { field: 'preset' });
    if (!input.client_id)
      throw new GatehouseError(commonErrors.invalidRequest, {
        field: 'client_id',
        message: 'An OIDC connection needs client_id.',
      });
    const method = input.token_endpoint_auth_method ?? 'client_secret_basic';
    const settings: OidcSettings = {
      issuer: checkIssuer(input.issuer ?? preset.issuer),
      client_id: input.client_id,
      token_endpoint_auth_method: method,
      scopes: withOpenid(input.scopes ?? preset.scopes),
      groups_claim: input.groups_claim ?? preset.groupsClaim,
      use_userinfo: input.use_userinfo ?? true,
    };
    let secret: StoredSecret | undefined;
    if (method === 'private_key_jwt') secret = await newKeyPair();
    else if (input.client_secret) secret = { kind: 'client_secret', value: input.client_secret };
    else throw new GatehouseError(ssoErrors.secretRequired, { field: 'client_secret' });
    return {
      presetId,
      settings,
      secret,
      audit: { issuer: settings.issuer, client_id: settings.client_id, auth_method: method },
    };
  }

  async function createConnection(
    ctx: Ctx,
    orgId: string,
    input: NewConnectionInput,
  ): Promise<ConnectionView> {
    if (input.type !== 'oidc' && input.type !== 'saml')
      throw new GatehouseError(ssoErrors.typeUnsupported, { field: 'type' });
    const type = input.type;
    const parts = type === 'oidc' ? await oidcParts(input) : await saml.fromInput(input);
    return withTx(ctx, async (tx) => {
      const now = tx.clock.now();
      const id = newId('ssc', now);
      const row: store.ConnectionRow = {
        id,
        org_id: orgId,
        type,
        name: input.name.trim(),
        name_normalized: normalize(input.name),
        preset: parts.presetId,
        enabled: input.enabled === false ? 0 : 1,
        settings_json: JSON.stringify(parts.settings),
        secret_envelope: 'secret' in parts ? sealSecret(id, parts.secret) : null,
        created_at: now,
        updated_at: now,
      };
      await store.insertConnection(tx, row);
      await deps.audit.append(tx, {
        orgId,
        action: 'sso.connection_created',
        target: { kind: 'sso_connection', id },
        data: { name: row.name, type, preset: parts.presetId, ...parts.audit },
      });
      return toView(row);
    });
  }

  async function requireRow(ctx: Ctx, orgId: string, id: string): Promise<store.ConnectionRow> {
    const row = await store.selectConnection(ctx, orgId, id);
    if (!row) throw new GatehouseError(ssoErrors.connectionNotFound, { field: 'connection_id' });
    return row;
  }

  async function listConnections(ctx: Ctx, orgId: string): Promise<ConnectionView[]> {
    return (await store.selectConnections(ctx, orgId)).map(toView);
  }

  async function getConnection(ctx: Ctx, orgId: string, id: string): Promise<ConnectionView> {
    return toView(await requireRow(ctx, orgId, id));
  }

  function patchedOidc(
    row: store.ConnectionRow,
    patch: ConnectionPatch,
  ): { settings: OidcSettings; secret?: StoredSecret } {
    const settings = JSON.parse(row.settings_json) as OidcSettings;
    const next: OidcSettings = {
      ...settings,
      ...(patch.issuer !== undefined ? { issuer: checkIssuer(patch.issuer) } : {}),
      ...(patch.client_id !== undefined ? { client_id: patch.client_id } : {}),
      ...(patch.scopes !== undefined ? { scopes: withOpenid(patch.scopes) } : {}),
      ...(patch.groups_claim !== undefined ? { groups_claim: patch.groups_claim } : {}),
      ...(patch.use_userinfo !== undefined ? { use_userinfo: patch.use_userinfo } : {}),
    };
    if (patch.client_secret === undefined) return { settings: next };
    if (settings.token_endpoint_auth_method === 'private_key_jwt')
      throw new GatehouseError(ssoErrors.secretRequired, {
        field: 'client_secret',
        message: 'This connection authenticates with its private key, not a client secret.',
      });
    return { settings: next, secret: { kind: 'client_secret', value: patch.client_secret } };
  }

  async function updateConnection(
    ctx: Ctx,
    orgId: string,
    id: string,
    patch: ConnectionPatch,
  ): Promise<ConnectionView> {
    // Metadata may be fetched: before the transaction, which must not wait on the network.
    const before = await requireRow(ctx, orgId, id);
    const next =
      before.type === 'saml' ? { settings: await saml.patched(before, patch) } : patchedOidc(before, patch);
    return withTx(ctx, async (tx) => {
      const row = await requireRow(tx, orgId, id);
      const now = tx.clock.now();
      const changes: Partial<store.ConnectionRow> = {
        settings_json: JSON.stringify(next.settings),
        updated_at: now,
      };
      if (patch.name !== undefined)
        Object.assign(changes, { name: patch.name.trim(), name_normalized: normalize(patch.name) });
      if (patch.enabled !== undefined) changes.enabled = patch.enabled ? 1 : 0;
      if ('secret' in next && next.secret) changes.secret_envelope = sealSecret(id, next.secret);
      await store.updateConnection(tx, id, changes);
      await deps.audit.append(tx, {
        orgId,
        action: 'sso.connection_updated',
        target: { kind: 'sso_connection', id },
        // Which fields changed, never their secret values.
        data: { fields: Object.keys(patch).sort() },
      });
      deps.onChanged(id);
      return toView({ ...row, ...changes });
    });
  }

  async function deleteConnection(ctx: Ctx, orgId: string, id: string): Promise<void> {
    await withTx(ctx, async (tx) => {
      const row = await requireRow(tx, orgId, id);
      await store.deleteConnection(tx, orgId, id);
      await deps.audit.append(tx, {
        orgId,
        action: 'sso.connection_deleted',
        target: { kind: 'sso_connection', id },
        data: { name: row.name },
      });
      deps.onChanged(id);
    });
  }

  /** The connection with its decrypted secret, for signing in; undefined when there is none. */
  async function loadConnection(ctx: Ctx, id: string): Promise<LoadedConnection | undefined> {
    const row = await store.selectConnectionById(ctx, id);
    if (!row) return undefined;
    const common = {
      id: row.id,
      orgId: row.org_id,
      name: row.name,
      preset: row.preset,
      enabled: row.enabled === 1,
      social: findPreset(row.preset)?.social ?? false,
      updatedAt: Number(row.updated_at),
    };
    if (row.type === 'saml')
      return { ...common, type: 'saml', settings: JSON.parse(row.settings_json) as SamlSettings };
    const secret = openSecret(row);
    return {
      ...common,
      type: 'oidc',
      settings: JSON.parse(row.settings_json) as OidcSettings,
      secret:
        secret &&
        (secret.kind === 'client_secret'
          ? { kind: 'client_secret', value: secret.value }
          : { kind: 'private_key', jwk: secret.jwk }),
    };
  }

  return {
    createConnection,
    listConnections,
    getConnection,
    updateConnection,
    deleteConnection,
    loadConnection,
  };
}
