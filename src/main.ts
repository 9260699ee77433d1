// The server's composition: loadConfig → openDb → createServices → buildApp → listen.
// Owns start-up output, timers and graceful shutdown; nothing else starts an interval.
import { pathToFileURL } from 'node:url';
import { buildApp } from './app.ts';
import { ConfigError, configWarnings, loadConfig } from './config.ts';
import { systemClock } from './core/clock.ts';
import { type Ctx, openDb } from './db/index.ts';
import { createLogger } from './logger.ts';
import { createServices, resolveMasterKey } from './services.ts';

export interface RunningServer {
  readonly url: string;
  readonly setupLink: string | undefined;
  stop(): Promise<void>;
}

export async function startServer(
  env?: Readonly<Record<string, string | undefined>>,
): Promise<RunningServer> {
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel);
  for (const warning of configWarnings(config)) logger.warn(warning);
  const masterKey = resolveMasterKey(config);
  const database = openDb(config.database, logger);
  try {
    const applied = await database.migrateToLatest();
    if (applied.length > 0) logger.info({ applied }, 'database migrated');
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  const services = createServices({ config, database, clock: systemClock, log: logger, masterKey });
  const { app, drain } = await buildApp(services, logger);
  let address: string;
  try {
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close().catch(() => {});
    await database.close().catch(() => {});
    throw error;
  }
  const setupLink = await services.bootstrap.issueSetupLinkIfEmpty(services.systemContext('startup'));
  const flushKeyUsage = () =>
    services.apiKeys.flushUsage(services.systemContext('api-key-usage')).catch((error: Error) => {
      logger.warn({ err: { message: error.message } }, 'could not record API key use; retrying');
    });
  /** Runs `task` every `ms`; a failure is logged and the next round tries again. */
  const every = (ms: number, requestId: string, failure: string, task: (ctx: Ctx) => Promise<unknown>) => {
    const timer = setInterval(() => {
      task(services.systemContext(requestId)).catch((error: Error) => {
        logger.warn({ err: { message: error.message } }, `${failure}; retrying`);
      });
    }, ms);
    timer.unref();
    return timer;
  };
  const timers = [
    setInterval(flushKeyUsage, KEY_USAGE_FLUSH_MS).unref(),
    every(SSO_FLOW_PURGE_MS, 'sso-flow-purge', 'could not purge expired SSO sign-ins', (ctx) =>
      services.sso.purgeExpiredFlows(ctx),
    ),
    every(SSO_FLOW_PURGE_MS, 'oauth-purge', 'could not purge expired OAuth artifacts', (ctx) =>
      services.oauth.purgeExpired(ctx),
    ),
    every(
      OAUTH_KEY_ROTATION_CHECK_MS,
      'oauth-key-rotation',
      'could not rotate the OAuth signing keys',
      (ctx) => services.oauth.rotateSigningKeysIfDue(ctx),
    ),
    every(SAML_METADATA_REFRESH_MS, 'saml-metadata-refresh', 'could not refresh SAML metadata', (ctx) =>
      services.sso.refreshSamlMetadata(ctx),
    ),
  ];
  let stopping: Promise<void> | undefined;
  return {
    url: address,
    setupLink,
    stop: () => {
      stopping ??= (async () => {
        drain.start();
        await app.close();
        // Handlers whose client went away are still running: the database stays open for them.
        await drain.settled(SHUTDOWN_DRAIN_MS);
        for (const timer of timers) clearInterval(timer);
        await flushKeyUsage();
        await database.close();
      })();
      return stopping;
    },
  };
}

const SHUTDOWN_DRAIN_MS = 5000;
/** API key last-used times are written in one batch this often (SPEC §2: never one write per request). */
const KEY_USAGE_FLUSH_MS = 15_000;
/** Unfinished SSO sign-ins expire after 10 minutes; their rows are deleted this often. */
const SSO_FLOW_PURGE_MS = 15 * 60_000;
/** How often each node asks whether the OAuth signing key is due for rotation. */
const OAUTH_KEY_ROTATION_CHECK_MS = 60 * 60_000;
/** SAML IdP metadata with a URL is re-read this often, so certificate rotations are followed. */
const SAML_METADATA_REFRESH_MS = 6 * 60 * 60_000;

/** Runs the server until SIGTERM/SIGINT, then drains in-flight requests and closes the database. */
export async function runServer(): Promise<void> {
  let server: RunningServer;
  try {
    server = await startServer();
  } catch (error) {
    const message =
      error instanceof ConfigError ? error.message : `cannot start: ${(error as Error).message}`;
    process.stderr.write(`gatehouse: ${message}\n`);
    process.exit(1);
  }
  if (server.setupLink) {
    process.stderr.write('gatehouse: no users yet: open the one-time setup link below (valid 1 hour)\n');
    process.stdout.write(
      `\nGatehouse has no users yet. Create the first admin (link valid for 1 hour):\n\n  ${server.setupLink}\n\n`,
    );
  }
  const shutdown = (signal: string) => {
    process.stderr.write(`gatehouse: ${signal} received, shutting down\n`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  void runServer();
}
