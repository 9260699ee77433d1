// Envelope encryption (SPEC §6): each secret gets its own AES-256-GCM data key; the data
// key is wrapped (AES-256-GCM) under the master key named by `kid`. Rotating the master key
// re-wraps data keys only; ciphertexts stay as they are.
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

export function masterKeyId(masterKey: Buffer): string {
  return createHash('sha256').update('gatehouse-kek:').update(masterKey).digest('hex').slice(0, 16);
}

function seal(key: Buffer, plaintext: Buffer, aad: string): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

function open(key: Buffer, iv: Buffer, tag: Buffer, ciphertext: Buffer, aad: string): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
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

function wrap(kek: Buffer, kid: string, dataKey: Buffer): string {
  const { iv, tag, ciphertext } = seal(kek, dataKey, `wrap:${kid}`);
  return Buffer.concat([iv, tag, ciphertext]).toString('base64url');
}

function unwrap(kek: Buffer, kid: string, wrapped: string): Buffer {
  const raw = Buffer.from(wrapped, 'base64url');
  if (raw.length !== 12 + 16 + 32) throw new Error('malformed envelope');
  return open(kek, raw.subarray(0, 12), raw.subarray(12, 28), raw.subarray(28), `wrap:${kid}`);
}

export function encryptSecret(ring: MasterKeyRing, plaintext: string, aad = ''): Envelope {
  const kid = ring.currentKeyId;
  const dataKey = randomBytes(32);
  const { iv, tag, ciphertext } = seal(dataKey, Buffer.from(plaintext, 'utf8'), aad);
  return {
    v: 1,
    kid,
    wrappedKey: wrap(keyFor(ring, kid), kid, dataKey),
    iv: iv.toString('base64url'),
    tag: tag.toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
  };
}

export function decryptSecret(ring: MasterKeyRing, envelope: Envelope, aad = ''): string {
  const dataKey = unwrap(keyFor(ring, envelope.kid), envelope.kid, envelope.wrappedKey);
  const b = (s: string) => Buffer.from(s, 'base64url');
  return open(dataKey, b(envelope.iv), b(envelope.tag), b(envelope.ciphertext), aad).toString('utf8');
}

export function rewrapEnvelope(ring: MasterKeyRing, envelope: Envelope): Envelope {
  const dataKey = unwrap(keyFor(ring, envelope.kid), envelope.kid, envelope.wrappedKey);
  const kid = ring.currentKeyId;
  return { ...envelope, kid, wrappedKey: wrap(keyFor(ring, kid), kid, dataKey) };
}

export function serializeEnvelope(e: Envelope): string {
  return JSON.stringify(e);
}

export function parseEnvelope(s: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(s);
  } catch {
    throw new Error('malformed envelope');
  }
  const e = value as Record<string, unknown>;
  const fields = ['kid', 'wrappedKey', 'iv', 'tag', 'ciphertext'];
  if (!e || e.v !== 1 || fields.some((f) => typeof e[f] !== 'string')) throw new Error('malformed envelope');
  return e as unknown as Envelope;
}
