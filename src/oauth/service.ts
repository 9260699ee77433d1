// The authorization server's lifecycle: signing keys made on first start (and shared by
// every node through the database), the provider built over them, expired artifacts
// purged on a timer (main.ts).
import type Provider from 'oidc-provider';
import type { AuditService } from '../audit/index.ts';
import type { Clock } from '../core/clock.ts';
import type { MasterKeyRing } from '../core/envelope.ts';
import type { Ctx, Db } from '../db/index.ts';
import { createOauthAdapter, purgeExpiredOauthArtifacts } from './adapter.ts';
import { createOauthProvider } from './provider.ts';
import { createSigningKeys } from './signing-keys.ts';

/** SPEC §4: access tokens live one hour. */
export const ACCESS_TOKEN_TTL_SECONDS = 3600;

/** The resource Gatehouse's own MCP server answers as (SPEC §4). */
export function mcpResource(publicUrl: string): string {
  return `${publicUrl}/mcp`;
}

export interface OauthServiceDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly keyRing: MasterKeyRing;
  readonly audit: AuditService;
  readonly publicUrl: string;
  readonly behindProxy: boolean;
  /** Signs the library's own cookies (interactions, its session). */
  readonly cookieKey: string;
}

export function createOauthService(deps: OauthServiceDeps) {
  const signingKeys = createSigningKeys({ keyRing: deps.keyRing, clock: deps.clock, audit: deps.audit });
  const Adapter = createOauthAdapter({ db: deps.db, clock: deps.clock });

  /** Makes the signing keys if this is the first start, and builds the provider over them. */
  async function initialize(ctx: Ctx): Promise<Provider> {
    await signingKeys.ensure(ctx);
    return createOauthProvider({
      publicUrl: deps.publicUrl,
      Adapter,
      signingKeys: await signingKeys.privateKeys(ctx),
      resources: [mcpResource(deps.publicUrl)],
      accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
      behindProxy: deps.behindProxy,
      cookieKeys: [deps.cookieKey],
    });
  }

  return {
    initialize,
    rotateSigningKeys: (ctx: Ctx) => signingKeys.rotate(ctx),
    purgeExpired: (ctx: Ctx) => purgeExpiredOauthArtifacts(ctx),
  };
}

export type OauthService = ReturnType<typeof createOauthService>;
