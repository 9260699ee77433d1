// API keys in tests: making them over /v1 as a signed-in browser, calling /v1 with one as a
// bearer token, and forging tokens that are well-formed but wrong. The checksum is computed
// here from the published format (SPEC §2: CRC32 of `gk_<key id>_<secret>`, base62, six
// characters), not imported, so a drift in src/core/secrets.ts shows up as a failing test.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { asBrowser, type Browser, type TestApp } from './app.ts';
import type { Answer } from './socket-inject.ts';

export const TOKEN_PATTERN = /^gk_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export interface ApiKeyBody {
  id: string;
  name: string;
  prefix: string;
  owner: { kind: 'user' | 'service_account'; id: string };
  read_only: boolean;
  status: 'active' | 'expired' | 'revoked';
  created_at: string;
  created_by: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  rotated_from: string | null;
  replaced_by: string | null;
}

export interface IssuedKeyBody extends ApiKeyBody {
  token: string;
}

export interface NewKeyBody {
  name: string;
  read_only?: boolean;
  expires_at?: string;
  service_account_id?: string;
}

/** Creates a key over /v1 as `as` and returns the 201 body (with the token). */
export async function createKey(
  t: TestApp,
  as: Browser,
  org: string,
  body: NewKeyBody = { name: 'ci' },
): Promise<IssuedKeyBody> {
  const res = await asBrowser(t, as, { method: 'POST', url: `/v1/orgs/${org}/api-keys`, payload: body });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

/** Sends a request with `Authorization: Bearer <token>`. */
export function withKey(t: TestApp, token: string, options: InjectOptions): Promise<LightMyRequestResponse> {
  return t.app.inject({
    ...options,
    headers: { ...(options.headers ?? {}), authorization: `Bearer ${token}` },
  });
}

/** Asserts a /v1 JSON error answer by status and stable code. */
export function assertError(res: Answer, status: number, code: string, field?: string): void {
  assert.equal(res.statusCode, status, res.body);
  const error = res.json().error;
  assert.equal(error.code, code, res.body);
  if (field !== undefined) assert.equal(error.field, field, res.body);
}

export function checksumOf(body: string): string {
  let out = '';
  for (let rest = crc32(body) >>> 0; rest > 0; rest = Math.floor(rest / 62)) out = BASE62[rest % 62] + out;
  return out.padStart(6, '0');
}

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) out += BASE62[randomInt(62)];
  return out;
}

export function keyIdOf(token: string): string {
  return token.slice(3, 15);
}

/** The 32-character secret between the key id and the checksum. */
export function secretOf(token: string): string {
  return token.slice(16, 48);
}

/** A token with `token`'s key id, a different secret and a correct checksum. */
export function withForgedSecret(token: string): string {
  let secret = randomBase62(32);
  while (secret === secretOf(token)) secret = randomBase62(32);
  const body = `gk_${keyIdOf(token)}_${secret}`;
  return `${body}${checksumOf(body)}`;
}

/** `token` with its last checksum character changed, so only the checksum is wrong. */
export function withBadChecksum(token: string): string {
  const last = token.at(-1)!;
  return token.slice(0, -1) + (last === 'A' ? 'B' : 'A');
}
