// createServices: the one wiring function. Builds each capability's service and hands it
// its dependencies; lists the pluggable kinds (credential kinds, lifecycle listeners) by hand.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseCookieHeader } from 'cookie';
import { createApiKeysService, createScimTokensService } from './apikeys/index.ts';
import { createAuditService } from './audit/index.ts';
import { createCredentialResolver, createFailureLimiter } from './authn/index.ts';
import type { Config } from './config.ts';
import type { Clock } from './core/clock.ts';
import type { Logger } from './core/context.ts';
import { deriveKey, generateMasterKey, masterKeyId, parseMasterKey } from './core/secrets.ts';
import { type Ctx, type DbHandle, isDatabaseUnavailable } from './db/index.ts';
import { createOauthService } from './oauth/index.ts';
import { createScimService } from './scim/index.ts';
import {
  cookieNames,
  createBootstrap,
  createSessionCache,
  createSessionRevoker,
  createSessionsService,
} from './sessions/index.ts';
import { createSsoService, type TxtResolver } from './sso/index.ts';
import { createTenancyService } from './tenancy/index.ts';

/**
 * The master key: from the environment, or in embedded mode from (or generated into) a
 * file in the data dir, readable by the owner only.
 */
export function resolveMasterKey(config: Config): Buffer {
  if (config.masterKey.kind === 'provided') return config.masterKey.key;
  const path = config.masterKey.path;
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx' fails if another process created it first; then we read theirs.
    try {
      writeFileSync(path, `${generateMasterKey()}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return parseMasterKey(readFileSync(path, 'utf8').trim());
}

export interface ServiceDeps {
  readonly config: Config;
  readonly database: DbHandle;
  readonly clock: Clock;
  readonly log: Logger;
  readonly masterKey: Buffer;
  /** DNS TXT lookups for domain verification; tests answer from a table (DNS is out of reach). */
  readonly resolveTxt?: TxtResolver;
}

export function createServices(deps: ServiceDeps) {
  const { config, database, clock, log } = deps;
  const { notifications } = database;
  const audit = createAuditService();
  const revoker = createSessionRevoker(
    audit,
    createSessionCache({ notifications, config: config.credentialCache }),
  );
  const apiKeys = createApiKeysService({ audit, notifications, cache: config.credentialCache });
  const scimTokens = createScimTokensService({ audit, notifications, cache: config.credentialCache });
  const keyRing = {
    currentKeyId: masterKeyId(deps.masterKey),
    keys: new Map([[masterKeyId(deps.masterKey), deps.masterKey]]),
  };
  const oauth = createOauthService({
    db: database.db,
    clock,
    log,
    keyRing,
    notifications,
    audit,
    publicUrl: config.publicUrl,
    cookieKey: deriveKey(deps.masterKey, 'oauth-cookies').toString('base64url'),
    keyRotationDays: config.oauthKeyRotationDays,
    credentialCache: config.credentialCache,
    failureLimit: config.authFailureLimit,
    clientMetadata: config.oauthClientMetadata,
    findUser: (ctx, userId) => tenancy.getUser(ctx, userId),
    // Read at call time, as above: the resolver is made below.
    signedInUser: async (ctx, cookieHeader) => {
      if (cookieHeader === undefined) return undefined;
      try {
        const auth = await resolver.authenticate(ctx, {
          authorization: undefined,
          cookies: parseCookieHeader(cookieHeader),
          surface: 'api',
        });
        return auth?.transport === 'cookie' && auth.principal.kind === 'user' ? auth.principal.id : undefined;
      } catch (error) {
        // A stale or forged session cookie is "not signed in"; an unreachable database is not.
        if (isDatabaseUnavailable(error)) throw error;
        return undefined;
      }
    },
  });
  const tenancy = createTenancyService({
    audit,
    notifications,
    accessCache: config.credentialCache,
    listeners: [revoker.lifecycle, apiKeys.userLifecycle, oauth.userLifecycle],
    serviceAccountListeners: [apiKeys.serviceAccountLifecycle, oauth.accessTokens.serviceAccountLifecycle],
    // Read at call time: the SSO service is made below, from tenancy.
    directory: {
      loadRoleRules: (ctx, orgId, defaultRole) => sso.loadDirectoryRoleRules(ctx, orgId, defaultRole),
      ownsEmailDomain: (ctx, orgId, email) => sso.ownsEmailDomain(ctx, orgId, email),
    },
  });
  const cookies = cookieNames(config.secureCookies);
  const sessions = createSessionsService({ audit, tenancy, cookies, revoker });
  const sso = createSsoService({
    audit,
    tenancy,
    sessions,
    clock,
    keyRing,
    publicUrl: config.publicUrl,
    clockToleranceSeconds: config.ssoClockSkewSeconds,
    resolveTxt: deps.resolveTxt,
  });
  const scim = createScimService({ audit, tenancy, baseUrl: `${config.publicUrl}/scim/v2` });
  const bootstrap = createBootstrap({ audit, tenancy, publicUrl: config.publicUrl });
  const resolver = createCredentialResolver(
    [
      apiKeys.credentialKind,
      scimTokens.credentialKind,
      oauth.accessTokens.credentialKind,
      sessions.credentialKind,
    ],
    createFailureLimiter(config.authFailureLimit),
  );

  /** A context for work that no request started (start-up, operator commands). */
  function systemContext(requestId: string): Ctx {
    return { db: database.db, clock, log, requestId };
  }

  return {
    config,
    database,
    clock,
    log,
    audit,
    tenancy,
    sessions,
    apiKeys,
    scimTokens,
    scim,
    sso,
    oauth,
    bootstrap,
    resolver,
    cookies,
    keys: {
      csrf: deriveKey(deps.masterKey, 'csrf-v1'),
      formCsrf: deriveKey(deps.masterKey, 'csrf-form'),
    },
    systemContext,
  };
}

export type Services = ReturnType<typeof createServices>;
