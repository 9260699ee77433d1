// The authorization server's lifecycle: signing keys made on first start (and shared by
// every node through the database), the provider built over them and rebuilt on every node
// when the keys change, rotation on demand and when the current key is due, and expired
// artifacts purged on a timer (main.ts runs the timers).
import type { JSONWebKeySet } from 'jose';
import type { errors, KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import type { AuditService } from '../audit/index.ts';
import { createFailureLimiter, type FailureLimitConfig } from '../authn/index.ts';
import { type Clock, DAY } from '../core/clock.ts';
import type { Logger } from '../core/context.ts';
import type { MasterKeyRing } from '../core/envelope.ts';
import type { Ctx, Db, Notifications } from '../db/index.ts';
import { type AccessTokenKindDeps, createAccessTokenKind } from './access-tokens.ts';
import { createOauthAdapter, purgeExpiredOauthArtifacts } from './adapter.ts';
import { createOauthProvider, oauthIssuer } from './provider.ts';
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
  /** The user's account status (tenancy), for access tokens. */
  readonly userStatus: AccessTokenKindDeps['userStatus'];
  /** The per-address budget of failed authentications (GATEHOUSE_AUTH_FAILURES_PER_MINUTE). */
  readonly failureLimit: FailureLimitConfig;
}

/** Failures at the token, introspection and revocation endpoints that count against the address. */
const COUNTED_ERRORS = new Set(['invalid_client', 'invalid_grant']);

export function createOauthService(deps: OauthServiceDeps) {
  const signingKeys = createSigningKeys({ keyRing: deps.keyRing, clock: deps.clock, audit: deps.audit });
  const Adapter = createOauthAdapter({ db: deps.db, clock: deps.clock });
  let provider: Provider | undefined;
  const failures = createFailureLimiter(deps.failureLimit);
  let published: JSONWebKeySet = { keys: [] };
  const accessTokens = createAccessTokenKind({
    issuer: oauthIssuer(deps.publicUrl),
    audiences: { api: apiResource(deps.publicUrl), mcp: mcpResource(deps.publicUrl) },
    publishedKeys: () => published,
    notifications: deps.notifications,
    cache: deps.credentialCache,
    userStatus: deps.userStatus,
  });
  /** Reloads run one after another, each reading the keys when it starts. */
  let reloads: Promise<void> = Promise.resolve();

  /** The provider over the keys in the database, and the public key set it publishes. */
  async function build(ctx: Ctx): Promise<{ provider: Provider; published: JSONWebKeySet }> {
    const keys = await signingKeys.load(ctx);
    const built = await createOauthProvider({
      publicUrl: deps.publicUrl,
      Adapter,
      signingKeys: keys.privateKeys,
      resources: [mcpResource(deps.publicUrl), apiResource(deps.publicUrl)],
      accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
      cookieKeys: [deps.cookieKey],
    });
    watch(built);
    return { provider: built, published: { keys: keys.published } };
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
    built.on('server_error', (ctx, error) => {
      deps.log.error({ err: { message: error.message }, path: ctx.path }, 'authorization server failed');
    });
  }

  function install(built: { provider: Provider; published: JSONWebKeySet }): void {
    provider = built.provider;
    published = built.published;
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
    // This node serves the new set before answering, whenever its own notification arrives.
    await reload('oauth-signing-keys-rotated');
    return rotated;
  }

  /**
   * Rotates when the current key is older than the configured age (main.ts asks hourly, on
   * every node). Two nodes due at once: one rotates, the other finds nothing left to do.
   */
  async function rotateSigningKeysIfDue(ctx: Ctx): Promise<boolean> {
    if (deps.keyRotationDays === 0) return false;
    const since = await signingKeys.currentSince(ctx);
    if (since !== undefined && ctx.clock.now() - since < deps.keyRotationDays * DAY) return false;
    try {
      await rotateSigningKeys(ctx);
      return true;
    } catch (error) {
      if (error instanceof ConcurrentRotationError) return false;
      throw error;
    }
  }

  return {
    initialize,
    provider: current,
    /** Throws the 429 (with Retry-After) while `address` is over its failure budget. */
    checkClientAddress: (address: string | undefined) => failures.check(address, deps.clock.now()),
    accessTokens,
    rotateSigningKeys,
    rotateSigningKeysIfDue,
    purgeExpired: (ctx: Ctx) => purgeExpiredOauthArtifacts(ctx),
  };
}

export type OauthService = ReturnType<typeof createOauthService>;
