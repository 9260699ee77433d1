// Cookie names and flags (SPEC §2): `__Host-` prefixed, Secure on https; HttpOnly and
// SameSite=Lax always.

export interface CookieNames {
  readonly session: string;
  readonly formCsrf: string;
}

export function cookieNames(secure: boolean): CookieNames {
  return secure
    ? { session: '__Host-gatehouse_session', formCsrf: '__Host-gatehouse_csrf' }
    : { session: 'gatehouse_session', formCsrf: 'gatehouse_csrf' };
}

export function sessionCookieOptions(secure: boolean, expiresAt: number) {
  return { path: '/', httpOnly: true, sameSite: 'lax' as const, secure, expires: new Date(expiresAt) };
}

/** Session tokens are 32 random bytes in base64url; anything else is refused without a lookup. */
export const SESSION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
