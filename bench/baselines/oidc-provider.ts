// B-OP: oidc-provider standalone, on node:http (its own callback), with its in-memory adapter,
// as close to Gatehouse's authorization server (src/oauth/provider.ts) as the token endpoint
// sees it, and nothing of Gatehouse's own:
// - one client-credentials client and one refresh client, both confidential
//   (client_secret_basic), as static clients;
// - resource indicators: <public url>/mcp gets JWT access tokens signed ES256 (B-OP JWT),
//   <public url>/mcp-opaque opaque ones (B-OP opaque); one ES256 key;
// - refresh tokens rotate on every use (rotateRefreshToken: true), Gatehouse's lifetimes;
// - before it announces itself, BENCH_OP_POOL refresh tokens are minted through the
//   library's own models (lib/oauth.ts mintRefreshTokens, the same code Gatehouse's seeding
//   runs) and written one a line to BENCH_OP_POOL_FILE, the first to BENCH_OP_POOL_FILE.first
//   (the plain request before load).
// The library's default adapter keeps everything in one LRU of 1000 entries, which would
// drop the pool's sessions, grants and tokens long before they are used (and an opaque-token
// flood drops everything in a second). So the adapter is the library's own MemoryAdapter class
// over the library's own LRU, only larger (BENCH_OP_STORE_ENTRIES): what it stores and how
// it looks things up are the default's.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type Configuration, errors } from 'oidc-provider';
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';
import { announceReady, stopWithParent } from '../lib/child-server.ts';
import {
  benchClients,
  MCP_RESOURCE,
  mintRefreshTokens,
  OPAQUE_RESOURCE,
  REFRESH_CLIENT_ID,
  REFRESH_SCOPE,
  TTL,
} from '../lib/oauth.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const poolSize = Number(env('BENCH_OP_POOL'));
const poolFile = env('BENCH_OP_POOL_FILE');
const accountId = env('BENCH_OP_ACCOUNT');
const storeEntries = Number(process.env.BENCH_OP_STORE_ENTRIES ?? 4_000_000);

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: 'bench-op-es256', alg: 'ES256', use: 'sig' };

const store = new LRU({ maxSize: storeEntries });
const scope = REFRESH_SCOPE;
const configuration: Configuration = {
  adapter: ((model: string) => new MemoryAdapter(model, store)) as unknown as Configuration['adapter'],
  jwks: { keys: [signingKey] as never },
  clients: benchClients({ cc: env('BENCH_CC_SECRET'), refresh: env('BENCH_REFRESH_SECRET') }).map((c) => ({
    ...c,
    grant_types: [...c.grant_types],
    response_types: [...c.response_types],
    redirect_uris: [...c.redirect_uris],
  })),
  responseTypes: ['code'],
  // The one key is ES256, as Gatehouse's: the library's RS256 default has no key to sign with.
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  enabledJWA: { idTokenSigningAlgValues: ['ES256'] },
  scopes: ['openid', 'offline_access', ...scope.split(' ')],
  rotateRefreshToken: true,
  // Gatehouse's setting: refresh tokens outlive the sign-in session (src/oauth/provider.ts).
  expiresWithSession: async () => false,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (_ctx, _client, oneOf) => oneOf ?? undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (resourceIndicator === MCP_RESOURCE)
          return {
            scope,
            audience: resourceIndicator,
            accessTokenTTL: TTL.AccessToken,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        if (resourceIndicator === OPAQUE_RESOURCE)
          return {
            scope,
            audience: resourceIndicator,
            accessTokenTTL: TTL.AccessToken,
            accessTokenFormat: 'opaque',
          };
        throw new errors.InvalidTarget();
      },
    },
  },
  ttl: { ...TTL },
};

const provider = new Provider('http://127.0.0.1:8080/oauth', configuration);
const started = Date.now();
const tokens = await mintRefreshTokens(provider, {
  clientId: REFRESH_CLIENT_ID,
  accountId,
  resource: MCP_RESOURCE,
  scope,
  count: poolSize,
});
writeFileSync(`${poolFile}.first`, `${tokens[0]}\n`);
writeFileSync(poolFile, `${tokens.slice(1).join('\n')}\n`);
process.stderr.write(`B-OP: ${tokens.length} refresh tokens minted in ${Date.now() - started} ms\n`);

const server = createServer(provider.callback());
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
stopWithParent(() => new Promise<void>((resolve) => server.close(() => resolve())));
announceReady(`http://127.0.0.1:${port}`);
