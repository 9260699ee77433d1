// How Fastify logs per request: a request logger that costs nothing until it writes, and
// no per-request info lines at all when info is off.
import { LogController } from 'fastify';
import type { Logger } from 'pino';

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

/**
 * Fastify's per-request lines ("incoming request", "request completed") are info: when info
 * is off, not even their arguments are built. Errored requests are still logged.
 */
class ErrorsOnlyRequestLog extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(...args: Parameters<LogController['requestCompleted']>): void {
    if (args[0]) super.requestCompleted(...args);
  }
}

export function requestLogController(logger: Logger): LogController | undefined {
  return logger.isLevelEnabled('info') ? undefined : new ErrorsOnlyRequestLog();
}
