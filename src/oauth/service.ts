// The authorization server's lifecycle: signing keys made on first start (and shared by
// every node through the database), the provider built over them and rebuilt on every node
// when the keys change, rotation on demand and when the current key is due, and expired
// artifacts purged on a timer (main.ts runs the timers).
import type { JSONWebKeySet } from 'jose';
import type { Client, errors, KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import type { AuditService } from '../audit/index.ts';
import { createFailureLimiter, type FailureLimitConfig } from '../authn/index.ts';
import { type Clock, DAY } from '../core/clock.ts';
import type { Logger } from '../core/context.ts';
import type { MasterKeyRing } from '../core/envelope.ts';
import { type Ctx, type Db, type Notifications, withTx } from '../db/index.ts';
import type { UserLifecycleListener } from '../tenancy/index.ts';
import { type AccessTokenKindDeps, createAccessTokenKind } from './access-tokens.ts';
import {
  type AccountRow,
  createOauthAdapter,
  createReadAhead,
  NOT_READ_AHEAD,
  purgeExpiredOauthArtifacts,
} from './adapter.ts';
import { type ClientMetadataConfig, createClientMetadataResolver } from './client-metadata.ts';
import { selectTokenStanding } from './consent-store.ts';
import { createConsents } from './consents.ts';
import { createOauthProvider, oauthIssuer } from './provider.ts';
import { createServiceAccountClients } from './service-account-clients.ts';
import { ConcurrentRotationError, createSigningKeys } from './signing-keys.ts';

/** SPEC §4: access tokens live one hour. */
export const ACCESS_TOKEN_TTL_SECONDS = 3600;

/** Announces changed signing keys; each node rebuilds its provider over the new set. */
const SIGNING_KEYS_CHANNEL = 'oauth_signing_keys';

/** The resource Gatehouse's own MCP server answers as (SPEC §4). */
export function mcpResource(publicUrl: string): string {
  return `${publicUrl}/mcp`;
}

/** The resource of Gatehouse's JSON API and forward auth: what the CLI asks tokens for. */
export function apiResource(publicUrl: string): string {
  return `${publicUrl}/v1`;
}

export interface OauthServiceDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly log: Logger;
  readonly keyRing: MasterKeyRing;
  readonly audit: AuditService;
  readonly notifications: Notifications;
  readonly publicUrl: string;
  /** Signs the library's own cookies (interactions, its session). */
  readonly cookieKey: string;
  /** Age of the current signing key at which it is rotated; 0 for never on schedule. */
  readonly keyRotationDays: number;
  readonly credentialCache: AccessTokenKindDeps['cache'];
  /** The per-address budget of failed authentications (GATEHOUSE_AUTH_FAILURES_PER_MINUTE). */
  readonly failureLimit: FailureLimitConfig;
  /** Client ID Metadata Documents: which hosts may serve them, and the pinned ones. */
  readonly clientMetadata: ClientMetadataConfig;
  /** A Gatehouse user by id (tenancy): tokens are issued for an active one only. */
  readonly findUser: (ctx: Ctx, userId: string) => Promise<AccountRow | undefined>;
  /** The user whose live Gatehouse browser session the Cookie header carries (sessions). */
  readonly signedInUser: (ctx: Ctx, cookieHeader: string | undefined) => Promise<string | undefined>;
}

/** Dynamic client registrations per address: a real client registers once per install. */
const REGISTRATION_LIMIT = { maxFailures: 20, windowMs: 60 * 60 * 1000 } as const;

/** Failures at the token, introspection and revocation endpoints that count against the address. */
const COUNTED_ERRORS = new Set(['invalid_client', 'invalid_grant']);

export function createOauthService(deps: OauthServiceDeps) {
  const signingKeys = createSigningKeys({ keyRing: deps.keyRing, clock: deps.clock, audit: deps.audit });
  const clientDocuments = createClientMetadataResolver({
    config: deps.clientMetadata,
    clock: deps.clock,
    log: deps.log,
  });
  const serviceAccountClients = createServiceAccountClients({
    db: deps.db,
    clock: deps.clock,
    keyRing: deps.keyRing,
    audit: deps.audit,
    onRemoved: (ctx, clientId) => accessTokens.clientRemoved(ctx, clientId),
  });
  // The library keeps its request context in its own AsyncLocalStorage (Provider.ctx).
  const readAhead = createReadAhead(() => (provider?.constructor as typeof Provider | undefined)?.ctx);
  const Adapter = createOauthAdapter({
    db: deps.db,
    clock: deps.clock,
    clientDocuments,
    serviceAccountClients,
    clientCache: { ...deps.credentialCache, notifications: deps.notifications, log: deps.log },
    readAhead,
  });
  const consents = createConsents({
    audit: deps.audit,
    onRevoked: (ctx, grantId) => accessTokens.grantRevoked(ctx, grantId),
  });
  /** The library calls back outside any request of ours: these get a context of their own. */
  const callbackCtx = (): Ctx => ({
    db: deps.db,
    clock: deps.clock,
    log: deps.log,
    requestId: 'oauth-provider',
  });
  let provider: Provider | undefined;
  const failures = createFailureLimiter(deps.failureLimit);
  // Registration is open to anyone who can reach /oauth/register: every attempt counts.
  const registrations = createFailureLimiter({ ...deps.failureLimit, ...REGISTRATION_LIMIT });
  let published: JSONWebKeySet = { keys: [] };
  /** The current key of the installed set: tells a set rotated elsewhere. */
  let installedKeyId: string | undefined;
  const accessTokens = createAccessTokenKind({
    issuer: oauthIssuer(deps.publicUrl),
    audiences: { api: apiResource(deps.publicUrl), mcp: mcpResource(deps.publicUrl) },
    publishedKeys: () => published,
    notifications: deps.notifications,
    cache: deps.credentialCache,
    standing: (ctx, userId, grantId) => selectTokenStanding(ctx, userId, grantId, ctx.clock.now()),
    clientActor: (ctx, clientId) => serviceAccountClients.actorOf(ctx, clientId),
  });
  /** Reloads run one after another, each reading the keys when it starts. */
  let reloads: Promise<void> = Promise.resolve();

  /** The provider over the keys in the database, and the public key set it publishes. */
  async function build(
    ctx: Ctx,
  ): Promise<{ provider: Provider; published: JSONWebKeySet; currentKeyId: string | undefined }> {
    const keys = await signingKeys.load(ctx);
    const current = await signingKeys.currentKey(ctx);
    const built = await createOauthProvider({
      publicUrl: deps.publicUrl,
      Adapter,
      signingKeys: keys.privateKeys,
      resources: [mcpResource(deps.publicUrl), apiResource(deps.publicUrl)],
      accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
      cookieKeys: [deps.cookieKey],
      findUser: async (userId) => {
        // Read with the token being redeemed, a moment ago in this same request (adapter.ts).
        const kept = readAhead.take('Account', userId);
        const user = kept === NOT_READ_AHEAD ? await deps.findUser(callbackCtx(), userId) : kept;
        return user?.status === 'active' ? user : undefined;
      },
      signedInUser: (cookieHeader) => deps.signedInUser(callbackCtx(), cookieHeader),
      rememberedGrants: (userId, clientId) => consents.rememberedGrants(callbackCtx(), userId, clientId),
      introspectAccessToken: (token) => accessTokens.introspect(callbackCtx(), token),
      revokeGrant: (grantId, clientId) => consents.revokeGrant(callbackCtx(), grantId, clientId),
      clientMetadataDocuments:
        deps.clientMetadata.allowedHosts.length > 0 || deps.clientMetadata.pinned.size > 0,
    });
    watch(built);
    return { provider: built, published: { keys: keys.published }, currentKeyId: current?.id };
  }

  /**
   * Counts failed client authentication and spent or unknown grants (guessed secrets, codes
   * and refresh tokens) per address, and logs the library's own failures, which it otherwise
   * only reports through its debug channel.
   */
  function watch(built: Provider): void {
    const count = (ctx: KoaContextWithOIDC, error: errors.OIDCProviderError) => {
      if (COUNTED_ERRORS.has(error.error)) failures.recordFailure(ctx.ip, deps.clock.now());
    };
    built.on('grant.error', count);
    built.on('introspection.error', count);
    built.on('revocation.error', count);
    // The library stores the client before it emits this: the event follows in its own
    // transaction, and a failure to write it is logged, not hidden.
    built.on('registration_create.success', (ctx: KoaContextWithOIDC, client: Client) => {
      const auditCtx: Ctx = { ...callbackCtx(), requestId: 'oauth-registration', ip: ctx.ip };
      withTx(auditCtx, (tx) =>
        deps.audit.append(tx, {
          orgId: null,
          action: 'oauth_client.registered',
          actor: { kind: 'anonymous', id: null },
          target: { kind: 'oauth_client', id: client.clientId },
          data: {
            client_name: client.clientName ?? null,
            redirect_uris: client.redirectUris,
            application_type: client.applicationType,
          },
        }),
      ).catch((error: Error) => {
        deps.log.error(
          { err: { message: error.message }, client: client.clientId },
          'could not audit a client registration',
        );
      });
    });
    // The library revokes a grant when a spent refresh token or code is presented again.
    built.on('grant.revoked', (_ctx: KoaContextWithOIDC, grantId: string) => {
      accessTokens.grantRevoked(callbackCtx(), grantId).catch((error: Error) => {
        deps.log.error({ err: { message: error.message } }, 'could not announce a revoked grant');
      });
    });
    built.on('server_error', (ctx, error) => {
      deps.log.error({ err: { message: error.message }, path: ctx.path }, 'authorization server failed');
    });
  }

  function install(built: Awaited<ReturnType<typeof build>>): void {
    provider = built.provider;
    published = built.published;
    installedKeyId = built.currentKeyId;
  }

  /**
   * Rebuilds the provider over the keys in the database. Everything it issued lives in the
   * database too, so a rebuilt provider loses nothing; requests in flight finish on the old
   * one. A failed reload keeps the old provider (it still verifies and signs with keys that
   * stay published for a day) and is logged.
   */
  function reload(requestId: string): Promise<void> {
    reloads = reloads
      .then(() => build({ db: deps.db, clock: deps.clock, log: deps.log, requestId }))
      .then(install)
      .catch((error: Error) => {
        deps.log.error({ err: { message: error.message } }, 'could not reload the OAuth signing keys');
      });
    return reloads;
  }

  /** Makes the signing keys if this is the first start, and builds the provider over them. */
  async function initialize(ctx: Ctx): Promise<void> {
    await signingKeys.ensure(ctx);
    install(await build(ctx));
    deps.notifications.subscribe(SIGNING_KEYS_CHANNEL, () => void reload('oauth-signing-keys-changed'));
    // A notification may have been missed while the listener was down: reload once it is
    // back. Not when it is lost: the database is most likely gone too, and a query into an
    // outage only adds a connection for it to break.
    deps.notifications.onGap(() => {
      if (deps.notifications.isLive()) void reload('oauth-signing-keys-gap');
    });
  }

  function current(): Provider {
    if (!provider) throw new Error('the OAuth authorization server is not initialized');
    return provider;
  }

  /** Rotates the signing keys and has every node (this one included) pick up the new set. */
  async function rotateSigningKeys(ctx: Ctx) {
    const rotated = await signingKeys.rotate(ctx);
    await deps.notifications.publish(ctx, SIGNING_KEYS_CHANNEL, rotated.current);
    // A serving node uses the new set before answering, whenever its own notification
    // arrives; an operator command (no provider built) only announces it to the servers.
    if (provider) await reload('oauth-signing-keys-rotated');
    return rotated;
  }

  /**
   * Rotates when the current key is older than the configured age (main.ts asks hourly, on
   * every node). Two nodes due at once: one rotates, the other finds nothing left to do.
   */
  async function rotateSigningKeysIfDue(ctx: Ctx): Promise<boolean> {
    const current = await signingKeys.currentKey(ctx);
    // A rotation this node was not told about (`gatehouse keys rotate` beside a SQLite
    // server, whose notifications stay in-process): picked up here, within the hour; the key
    // it retired stays published for a day, so nothing it signed meanwhile breaks.
    if (provider && current?.id !== installedKeyId) await reload('oauth-signing-keys-changed');
    if (deps.keyRotationDays === 0) return false;
    if (current !== undefined && ctx.clock.now() - current.since < deps.keyRotationDays * DAY) return false;
    try {
      await rotateSigningKeys(ctx);
      return true;
    } catch (error) {
      if (error instanceof ConcurrentRotationError) return false;
      throw error;
    }
  }

  /**
   * What OAuth holds for a user who stops being trusted: a user deprovisioned (everywhere, or
   * in an org by its IdP) loses every grant and refresh token; any deactivation drops the
   * cached verifications of their access tokens.
   */
  const userLifecycle: UserLifecycleListener = {
    async onUserDeactivated(ctx, event) {
      if (event.reason === 'deprovisioned' || event.reason === 'deprovisioned_in_org')
        await consents.revokeGrantsOfUser(ctx, event.userId, event.orgId, event.reason);
      await accessTokens.userLifecycle.onUserDeactivated(ctx, event);
    },
    onRoleChanged: (ctx, event) => accessTokens.userLifecycle.onRoleChanged(ctx, event),
  };

  return {
    initialize,
    provider: current,
    userLifecycle,
    /** Throws the 429 (with Retry-After) while `address` is over its failure budget. */
    checkClientAddress: (address: string | undefined) => failures.check(address, deps.clock.now()),
    /** Throws the 429 (with Retry-After) when `address` registered too many clients lately; else counts this one. */
    admitRegistration: (address: string | undefined) => {
      const now = deps.clock.now();
      registrations.check(address, now);
      registrations.recordFailure(address, now);
    },
    accessTokens,
    consents,
    serviceAccountClients,
    mcpResource: mcpResource(deps.publicUrl),
    apiResource: apiResource(deps.publicUrl),
    rotateSigningKeys,
    rotateSigningKeysIfDue,
    purgeExpired: (ctx: Ctx) => purgeExpiredOauthArtifacts(ctx),
  };
}

export type OauthService = ReturnType<typeof createOauthService>;
