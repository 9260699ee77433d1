// The pino logger. Credentials never reach a log line: authorization and cookie headers are
// redacted, and URLs are logged without their query string (setup links carry a token).
import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';

function pathOnly(url: string | undefined): string | undefined {
  return url?.split('?')[0];
}

export function createLogger(level: Config['logLevel'], destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gatehouse' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: { method?: string; url?: string; id?: string; ip?: string }) => ({
          id: req.id,
          method: req.method,
          url: pathOnly(req.url),
          ip: req.ip,
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Fastify gives every request a child logger bound to its request id. Making a pino child
 * serializes the bindings, a cost every request paid although at the usual levels it logs
 * nothing; this one makes the child only when a line is actually written.
 */
class RequestLogger {
  readonly #parent: Logger;
  readonly #bindings: Record<string, unknown>;
  #child: Logger | undefined;

  constructor(parent: Logger, bindings: Record<string, unknown>) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  get level(): string {
    return this.#parent.level;
  }

  #write(method: LogMethod, args: unknown[]): void {
    if (!this.#parent.isLevelEnabled(method)) return;
    this.#child ??= this.#parent.child(this.#bindings);
    (this.#child[method] as (...a: unknown[]) => void)(...args);
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {}
  child(bindings: Record<string, unknown>, options?: object): Logger {
    this.#child ??= this.#parent.child(this.#bindings);
    return this.#child.child(bindings, options);
  }
}

/** Fastify's childLoggerFactory: a request logger that costs nothing until it writes. */
export function requestLoggerFactory(logger: Logger, bindings: Record<string, unknown>): Logger {
  return new RequestLogger(logger, bindings) as unknown as Logger;
}
