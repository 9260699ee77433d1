// Translates whatever a handler threw into a GatehouseError, in one place: our own errors
// pass through; Fastify's validation, body and content-type errors and the database's
// "unreachable" errors get stable codes; anything else is an internal error whose detail
// stays in the log.

import type { Logger } from '../core/context.ts';
import { commonErrors, GatehouseError, isGatehouseError } from '../core/errors.ts';
import { isDatabaseUnavailable } from '../db/index.ts';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  validation?: { instancePath?: string; params?: Record<string, unknown>; message?: string }[];
  validationContext?: string;
  message?: string;
}

function fieldOf(error: FastifyLikeError): string | undefined {
  const first = error.validation?.[0];
  if (!first) return undefined;
  const missing = first.params?.missingProperty;
  const path = (first.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  if (typeof missing === 'string') return path ? `${path}.${missing}` : missing;
  const additional = first.params?.additionalProperty;
  if (typeof additional === 'string') return path ? `${path}.${additional}` : additional;
  return path || error.validationContext;
}

export function toGatehouseError(error: unknown): { error: GatehouseError; unexpected: boolean } {
  if (isGatehouseError(error)) return { error, unexpected: false };
  const e = (error ?? {}) as FastifyLikeError;
  if (e.validation) {
    const field = fieldOf(e);
    const message = field
      ? `The field "${field}" is not valid: ${e.validation[0]?.message ?? 'bad value'}.`
      : undefined;
    return {
      error: new GatehouseError(commonErrors.invalidRequest, { field, message, cause: error }),
      unexpected: false,
    };
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { error: new GatehouseError(commonErrors.payloadTooLarge, { cause: error }), unexpected: false };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        error: new GatehouseError(commonErrors.unsupportedMediaType, { cause: error }),
        unexpected: false,
      };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return {
        error: new GatehouseError(commonErrors.invalidRequest, {
          field: 'body',
          message: 'The request body is not valid JSON.',
          cause: error,
        }),
        unexpected: false,
      };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      error: new GatehouseError(commonErrors.databaseUnavailable, {
        cause: error,
        headers: { 'retry-after': '5' },
      }),
      unexpected: false,
    };
  }
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return { error: new GatehouseError(commonErrors.invalidRequest, { cause: error }), unexpected: false };
  }
  return { error: new GatehouseError(commonErrors.internal, { cause: error }), unexpected: true };
}

/**
 * What was thrown, as the GatehouseError every surface renders, logged once: refusals at info,
 * failures at error with the cause (whose detail stays in the log).
 */
export function loggedError(thrown: unknown, log: Logger): GatehouseError {
  const { error, unexpected } = toGatehouseError(thrown);
  const logged = { code: error.code, detail: error.detail, err: unexpected ? thrown : undefined };
  if (unexpected || error.status >= 500) log.error(logged, 'request failed');
  else log.info(logged, 'request refused');
  return error;
}
