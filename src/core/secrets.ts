// The one home of secrets: CSPRNG generation, the gk_/gks_ token format, digests and
// constant-time comparison, master-key parsing and derivation, and envelope encryption
// (re-exported from envelope.ts), so the rest of the code never touches raw crypto for credentials.
import * as crypto from 'node:crypto';
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import * as zlib from 'node:zlib';

export {
  decryptSecret,
  type Envelope,
  encryptSecret,
  type MasterKeyRing,
  masterKeyId,
  parseEnvelope,
  rewrapEnvelope,
  serializeEnvelope,
} from './envelope.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
// 248 = 4 * 62: bytes at or above it are redrawn, because `byte % 62` over all 256 values
// would favour the first 8 characters.
const BASE62_REJECT_FROM = 248;

export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function randomBase62(length: number): string {
  if (!Number.isSafeInteger(length) || length < 0)
    throw new RangeError('length must be a non-negative integer');
  let out = '';
  while (out.length < length) {
    // Over-draw so one call almost always suffices despite the ~3% rejection rate.
    for (const byte of randomBytes(Math.max(16, (length - out.length) * 2))) {
      if (byte < BASE62_REJECT_FROM) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

// crypto.hash (Node 20.12+) hashes in one call without a Hash object: it is on the path of
// every request that carries a key.
const oneShotHash = (
  crypto as { hash?: (algorithm: string, data: string | Buffer, encoding: 'hex') => string }
).hash;

export function sha256Hex(value: string | Buffer): string {
  if (oneShotHash) return oneShotHash('sha256', value, 'hex');
  return createHash('sha256').update(value).digest('hex');
}

export function hmacSha256Hex(key: Buffer, value: string | Buffer): string {
  return createHmac('sha256', key).update(value).digest('hex');
}

// Tokens carry 190+ bits of entropy, so a fast unsalted hash is enough: nothing is left
// to brute-force, and lookups by digest stay possible.
export function digestSecret(secret: string): string {
  return sha256Hex(secret);
}

// Hashing both sides first gives equal-length inputs, so timingSafeEqual neither throws nor
// returns early in a way that reveals the length of the expected value.
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * For two hex SHA-256 digests: equal lengths by construction, so they are compared as they
 * are, without hashing them again. Anything that is not 64 characters long never matches.
 * Every character pair is XORed into one accumulator with no branch on the data, so the time
 * does not depend on where they differ; it is timingSafeEqual's method without the two
 * Buffer copies it needs, which were a visible share of an uncached key check.
 */
export function constantTimeEqualDigests(a: string, b: string): boolean {
  if (a.length !== 64 || b.length !== 64) return false;
  let difference = 0;
  for (let i = 0; i < 64; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

export function verifySecretDigest(secret: string, storedDigest: string): boolean {
  return constantTimeEqual(digestSecret(secret), storedDigest);
}

// ---- token format: prefix + 12 key id + '_' + 32 secret + 6 checksum ----

export type TokenPrefix = 'gk_' | 'gks_';
export interface IssuedToken {
  token: string;
  keyId: string;
  secret: string;
  digest: string;
}
export type ParsedToken =
  | { ok: true; prefix: TokenPrefix; keyId: string; secret: string }
  | { ok: false; reason: 'malformed' | 'bad_checksum' };

const KEY_ID_LENGTH = 12;
const SECRET_LENGTH = 32;
// 62^6 > 2^32, so every CRC32 value has exactly one 6-character encoding.
const CHECKSUM_LENGTH = 6;

const TOKEN_PATTERNS: ReadonlyMap<string, RegExp> = new Map(
  (['gk_', 'gks_'] satisfies TokenPrefix[]).map((prefix) => [
    prefix,
    new RegExp(
      `^${prefix}([0-9A-Za-z]{${KEY_ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
    ),
  ]),
);

// zlib.crc32 arrived in Node 20.15 / 22.2; the table version (same IEEE polynomial) keeps
// older runtimes producing identical checksums. A namespace import avoids a link-time error there.
const nativeCrc32 = (zlib as { crc32?: (data: string) => number }).crc32;

const CRC_TABLE = nativeCrc32
  ? undefined
  : Uint32Array.from({ length: 256 }, (_, n) => {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      return c >>> 0;
    });

function crc32(data: string): number {
  if (nativeCrc32) return nativeCrc32(data) >>> 0;
  let crc = 0xffffffff;
  for (const byte of Buffer.from(data, 'utf8')) crc = CRC_TABLE![(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function checksumOf(body: string): string {
  let out = '';
  for (let rest = crc32(body); rest > 0; rest = Math.floor(rest / 62)) out = BASE62[rest % 62] + out;
  return out.padStart(CHECKSUM_LENGTH, '0');
}

export function issueToken(prefix: TokenPrefix): IssuedToken {
  const keyId = randomBase62(KEY_ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${prefix}${keyId}_${secret}`;
  const token = `${body}${checksumOf(body)}`;
  return { token, keyId, secret, digest: digestSecret(token) };
}

// Pure, so typos and garbage are turned away before any database lookup. The checksum is
// not a secret, so an ordinary comparison is fine here.
export function parseToken(token: string, prefix: TokenPrefix): ParsedToken {
  const match = TOKEN_PATTERNS.get(prefix)?.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, keyId, secret, checksum] = match as unknown as [string, string, string, string];
  if (checksum !== checksumOf(`${prefix}${keyId}_${secret}`)) return { ok: false, reason: 'bad_checksum' };
  return { ok: true, prefix, keyId, secret };
}

// ---- master key and derived keys ----

const MASTER_KEY_ERROR = 'must be 32 bytes encoded as base64';

// Accepts both alphabets because operators paste keys from tools that emit either. The
// charset check matters: Buffer.from silently skips characters it does not recognise.
export function parseMasterKey(base64: string): Buffer {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) throw new Error(MASTER_KEY_ERROR);
  const key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) throw new Error(MASTER_KEY_ERROR);
  return key;
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64');
}

// One independent key per purpose, so a leak or misuse in one feature cannot forge
// another's values. The info string is part of every persisted MAC: never change it.
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `gatehouse:${purpose}`, 32));
}

/**
 * A value derived from a secret seed for one purpose (base64url of HMAC-SHA256, 43
 * characters): lets one random seed held by a browser stand for several secrets of a flow
 * (PKCE verifier, nonce) without storing any of them.
 */
export function deriveFromSeed(seed: string, purpose: string): string {
  return createHmac('sha256', seed).update(purpose).digest('base64url');
}
