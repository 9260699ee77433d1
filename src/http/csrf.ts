// CSRF defences (SPEC §2, §3). /v1 with a session cookie: unsafe methods must send
// X-CSRF-Token, an HMAC of the session credential. Browser forms: a signed double-submit
// token, an HMAC of a random form cookie, in a hidden field; it works before sign-in too.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../core/errors.ts';
import { constantTimeEqual, generateSecret, hmacSha256Hex } from '../core/secrets.ts';
import { httpErrors } from './errors.ts';

export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = 'csrf_token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

export function sessionCsrfToken(csrfKey: Buffer, sessionCredential: string): string {
  return hmacSha256Hex(csrfKey, `v1:${sessionCredential}`);
}

export function checkSessionCsrf(request: FastifyRequest, expected: string): void {
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !constantTimeEqual(sent, expected)) {
    throw new GatehouseError(httpErrors.csrfFailed, { field: 'X-CSRF-Token' });
  }
}

export interface FormCsrf {
  cookieName: string;
  secure: boolean;
  key: Buffer;
}

/** Ensures the form cookie exists and returns the token pages embed. */
export function issueFormCsrf(request: FastifyRequest, reply: FastifyReply, config: FormCsrf): string {
  const existing = request.cookies[config.cookieName];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return hmacSha256Hex(config.key, `form:${existing}`);
  const seed = generateSecret(32);
  reply.setCookie(config.cookieName, seed, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: config.secure,
  });
  // Later reads in this request (the page render) see the cookie it just set.
  request.cookies[config.cookieName] = seed;
  return hmacSha256Hex(config.key, `form:${seed}`);
}

export function checkFormCsrf(request: FastifyRequest, config: FormCsrf): void {
  const seed = request.cookies[config.cookieName];
  const body = request.body as Record<string, unknown> | undefined;
  const sent = body?.[CSRF_FIELD];
  if (
    !seed ||
    typeof sent !== 'string' ||
    !constantTimeEqual(sent, hmacSha256Hex(config.key, `form:${seed}`))
  ) {
    throw new GatehouseError(httpErrors.csrfFailed, { field: CSRF_FIELD });
  }
}
