// The one home of secrets (ARCHITECTURE convention 8): generation from the CSPRNG, the
// gk_/gks_ token format with its checksum, digests, constant-time comparison, keys derived
// from the master key, and envelope encryption. Nothing else calls randomBytes for a
// credential or compares digests.
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import * as zlib from 'node:zlib';

export {
  type Envelope,
  type MasterKeyRing,
  decryptSecret,
  encryptSecret,
  masterKeyId,
  parseEnvelope,
  rewrapEnvelope,
  serializeEnvelope,
} from './envelope.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Unbiased: bytes >= 248 (the largest multiple of 62 below 256) are discarded. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(Math.max(16, (length - out.length) * 2))) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function sha256Hex(value: string | Buffer): string {
  return createHash('sha256').update(value).digest('hex');
}

export function hmacSha256Hex(key: Buffer, value: string | Buffer): string {
  return createHmac('sha256', key).update(value).digest('hex');
}

export function digestSecret(secret: string): string {
  return sha256Hex(secret);
}

/** Hashes both sides first so unequal lengths neither throw nor leak through timing. */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export function verifySecretDigest(secret: string, storedDigest: string): boolean {
  return constantTimeEqual(digestSecret(secret), storedDigest);
}

// ---- token format (SPEC §2): prefix + 12 key id + '_' + 32 secret + 6 checksum ----

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
const CHECKSUM_LENGTH = 6;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(data: string): number {
  const nodeCrc = (zlib as { crc32?: (d: string) => number }).crc32;
  if (nodeCrc) return nodeCrc(data) >>> 0;
  let crc = 0xffffffff;
  for (const byte of Buffer.from(data, 'utf8')) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function base62Of(value: number, width: number): string {
  let out = '';
  let rest = value;
  while (rest > 0) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, '0');
}

function checksumOf(body: string): string {
  return base62Of(crc32(body), CHECKSUM_LENGTH);
}

export function issueToken(prefix: TokenPrefix): IssuedToken {
  const keyId = randomBase62(KEY_ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${prefix}${keyId}_${secret}`;
  const token = `${body}${checksumOf(body)}`;
  return { token, keyId, secret, digest: digestSecret(token) };
}

/** Pure: rejects a mistyped or forged token before any database work. */
export function parseToken(token: string, prefix: TokenPrefix): ParsedToken {
  const pattern = new RegExp(`^${prefix}([0-9A-Za-z]{${KEY_ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`);
  const match = pattern.exec(token);
  if (!match) return { ok: false, reason: 'malformed' };
  const [, keyId, secret, checksum] = match as unknown as [string, string, string, string];
  if (!constantTimeEqual(checksum, checksumOf(`${prefix}${keyId}_${secret}`))) return { ok: false, reason: 'bad_checksum' };
  return { ok: true, prefix, keyId, secret };
}

// ---- master key and derived keys ----

export function parseMasterKey(base64: string): Buffer {
  const normalized = base64.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(normalized)) throw new Error('must be 32 bytes encoded as base64');
  const key = Buffer.from(normalized.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key.length !== 32) throw new Error('must be 32 bytes encoded as base64');
  return key;
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/** HKDF-SHA256: one independent key per purpose, so no key is used for two jobs. */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `gatehouse:${purpose}`, 32));
}
