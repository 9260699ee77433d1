// The token suite's seeding of Gatehouse, run once against the bench database after
// `gatehouse admin create` and before the server starts (lib/gatehouse.ts beforeStart), with
// the server's own GATEHOUSE_* variables, through Gatehouse's services as an operator command
// builds them (src/cli/operator.ts):
// - the two confidential clients (lib/oauth.ts benchClients), stored through Gatehouse's
//   oidc-provider adapter the way test/helpers/oauth.ts registerConfidentialClient does
//   (there is no admin API for clients yet);
// - BENCH_SEED_POOL refresh tokens for the bench admin, minted through the authorization
//   server's own models (lib/oauth.ts mintRefreshTokens: session, grant and refresh token per
//   token, saved through the adapter into oauth_artifacts), written one a line to
//   BENCH_SEED_POOL_FILE, the first to BENCH_SEED_POOL_FILE.first.
// Also makes the OAuth signing keys (the server finds them at its first start, as it would
// those of an earlier start).
import { writeFileSync } from 'node:fs';
import { withOperatorServices } from '../src/cli/operator.ts';
import { createOauthAdapter } from '../src/oauth/adapter.ts';
import {
  benchClients,
  MCP_RESOURCE,
  mintRefreshTokens,
  REFRESH_CLIENT_ID,
  REFRESH_SCOPE,
} from './lib/oauth.ts';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const poolSize = Number(env('BENCH_SEED_POOL'));
const poolFile = env('BENCH_SEED_POOL_FILE');
const email = env('BENCH_SEED_EMAIL');

await withOperatorServices({ requireCurrentSchema: true }, async (services) => {
  const ctx = services.systemContext('bench-seed');
  const user = await services.tenancy.findUserForSignIn(ctx, email);
  if (!user) throw new Error(`no user ${email}`);
  const Adapter = createOauthAdapter({ db: services.database.db, clock: services.clock });
  const clients = new Adapter('Client');
  for (const client of benchClients({ cc: env('BENCH_CC_SECRET'), refresh: env('BENCH_REFRESH_SECRET') }))
    await clients.upsert(client.client_id, { ...client });
  await services.oauth.initialize(ctx);
  const started = Date.now();
  const tokens = await mintRefreshTokens(services.oauth.provider(), {
    clientId: REFRESH_CLIENT_ID,
    accountId: user.id,
    resource: MCP_RESOURCE,
    scope: REFRESH_SCOPE,
    count: poolSize,
    parallel: services.config.database.kind === 'postgres' ? 8 : 1,
  });
  writeFileSync(`${poolFile}.first`, `${tokens[0]}\n`);
  writeFileSync(poolFile, `${tokens.slice(1).join('\n')}\n`);
  process.stdout.write(
    `${tokens.length} refresh tokens minted for ${user.id} in ${Date.now() - started} ms; clients ${benchClients(
      { cc: '', refresh: '' },
    )
      .map((c) => c.client_id)
      .join(', ')} stored\n`,
  );
});
// The services' notification listener and timers are not ours to wait for.
process.exit(0);
