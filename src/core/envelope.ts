// Envelope encryption: each secret gets its own AES-256-GCM data key, wrapped (AES-256-GCM)
// under the master key named by `kid`, so rotating the master key re-wraps only the small
// wrapped data keys and never has to touch the ciphertexts themselves.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export interface MasterKeyRing {
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export interface Envelope {
  v: 1;
  kid: string;
  wrappedKey: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
const WRAPPED_KEY_BYTES = IV_BYTES + TAG_BYTES + DATA_KEY_BYTES;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

// Hashes the raw key bytes (not their base64 text) so the id survives re-encoding, and the
// domain prefix keeps it from matching any other SHA-256 of the key. Ids are persisted in
// envelopes: never change this.
export function masterKeyId(masterKey: Buffer): string {
  return createHash('sha256').update('gatehouse-kek:').update(masterKey).digest('hex').slice(0, 16);
}

function seal(key: Buffer, plaintext: Buffer, aad: string): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

// Node would otherwise accept a tag truncated to 4 bytes, which makes forgery cheap, so
// lengths are pinned. Every failure gets one fixed message: the underlying error must never
// carry key material or plaintext into logs.
function open(key: Buffer, iv: Buffer, tag: Buffer, ciphertext: Buffer, aad: string): Buffer {
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('malformed envelope');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new Error('decryption failed: wrong key or tampered data');
  }
}

function keyFor(ring: MasterKeyRing, kid: string): Buffer {
  const key = ring.keys.get(kid);
  if (!key) throw new Error('unknown key id');
  return key;
}

// The kid is the wrap's AAD, so a wrapped key cannot be relabelled to claim another master key.
function wrap(ring: MasterKeyRing, kid: string, dataKey: Buffer): string {
  const { iv, tag, ciphertext } = seal(keyFor(ring, kid), dataKey, `wrap:${kid}`);
  return Buffer.concat([iv, tag, ciphertext]).toString('base64url');
}

function unwrap(ring: MasterKeyRing, kid: string, wrapped: string): Buffer {
  const kek = keyFor(ring, kid);
  const raw = Buffer.from(wrapped, 'base64url');
  if (raw.length !== WRAPPED_KEY_BYTES) throw new Error('malformed envelope');
  const [iv, tag, sealedKey] = [
    raw.subarray(0, IV_BYTES),
    raw.subarray(IV_BYTES, -DATA_KEY_BYTES),
    raw.subarray(-DATA_KEY_BYTES),
  ];
  return open(kek, iv, tag, sealedKey, `wrap:${kid}`);
}

const bytes = (s: string) => Buffer.from(s, 'base64url');

export function encryptSecret(ring: MasterKeyRing, plaintext: string, aad = ''): Envelope {
  const kid = ring.currentKeyId;
  keyFor(ring, kid);
  const dataKey = randomBytes(DATA_KEY_BYTES);
  try {
    const { iv, tag, ciphertext } = seal(dataKey, Buffer.from(plaintext, 'utf8'), aad);
    return {
      v: 1,
      kid,
      wrappedKey: wrap(ring, kid, dataKey),
      iv: iv.toString('base64url'),
      tag: tag.toString('base64url'),
      ciphertext: ciphertext.toString('base64url'),
    };
  } finally {
    // Best effort: shortens the time a plaintext data key sits in the heap.
    dataKey.fill(0);
  }
}

export function decryptSecret(ring: MasterKeyRing, envelope: Envelope, aad = ''): string {
  const dataKey = unwrap(ring, envelope.kid, envelope.wrappedKey);
  try {
    const plaintext = open(dataKey, bytes(envelope.iv), bytes(envelope.tag), bytes(envelope.ciphertext), aad);
    return plaintext.toString('utf8');
  } finally {
    dataKey.fill(0);
  }
}

export function rewrapEnvelope(ring: MasterKeyRing, envelope: Envelope): Envelope {
  const dataKey = unwrap(ring, envelope.kid, envelope.wrappedKey);
  try {
    const kid = ring.currentKeyId;
    const { iv, tag, ciphertext } = envelope;
    return { v: 1, kid, wrappedKey: wrap(ring, kid, dataKey), iv, tag, ciphertext };
  } finally {
    dataKey.fill(0);
  }
}

export function serializeEnvelope(e: Envelope): string {
  const { v, kid, wrappedKey, iv, tag, ciphertext } = e;
  return JSON.stringify({ v, kid, wrappedKey, iv, tag, ciphertext });
}

// Rebuilds the object field by field so stray properties from storage never ride along
// into a re-wrapped or re-serialised envelope.
export function parseEnvelope(s: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(s);
  } catch {
    throw new Error('malformed envelope');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('malformed envelope');
  const { v, kid, wrappedKey, iv, tag, ciphertext } = value as Record<string, unknown>;
  // Lengths are left to decryption, which checks them anyway; an empty plaintext is legal.
  const isEncoded = (f: unknown): f is string => typeof f === 'string' && BASE64URL.test(f);
  if (
    v !== 1 ||
    typeof kid !== 'string' ||
    kid === '' ||
    !isEncoded(wrappedKey) ||
    !isEncoded(iv) ||
    !isEncoded(tag) ||
    !isEncoded(ciphertext)
  ) {
    throw new Error('malformed envelope');
  }
  return { v, kid, wrappedKey, iv, tag, ciphertext };
}
