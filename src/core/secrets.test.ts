import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  constantTimeEqual,
  constantTimeEqualDigests,
  decryptSecret,
  deriveKey,
  digestSecret,
  type Envelope,
  encryptSecret,
  generateMasterKey,
  generateSecret,
  hmacSha256Hex,
  issueToken,
  type MasterKeyRing,
  masterKeyId,
  parseEnvelope,
  parseMasterKey,
  parseToken,
  randomBase62,
  rewrapEnvelope,
  serializeEnvelope,
  sha256Hex,
  verifySecretDigest,
} from './secrets.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

describe('token format', () => {
  it('issues gk_ and gks_ tokens that parse back to their key id and secret', () => {
    for (const prefix of ['gk_', 'gks_'] as const) {
      const issued = issueToken(prefix);
      assert.match(issued.token, new RegExp(`^${prefix}[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$`));
      assert.deepEqual(parseToken(issued.token, prefix), {
        ok: true,
        prefix,
        keyId: issued.keyId,
        secret: issued.secret,
      });
      assert.equal(issued.digest, digestSecret(issued.token));
    }
  });

  it('issues a different key id and secret every time', () => {
    const a = issueToken('gk_');
    const b = issueToken('gk_');
    assert.notEqual(a.keyId, b.keyId);
    assert.notEqual(a.secret, b.secret);
  });

  it('computes the checksum as zero-padded base62 CRC32 of prefix, key id and secret', () => {
    // Vectors from Python's zlib.crc32, so other implementations can check themselves.
    const keyId = 'AbCdEfGhIjKl';
    const secret = '0123456789abcdefghijABCDEFGHIJxy';
    assert.deepEqual(parseToken(`gk_${keyId}_${secret}0hRzYD`, 'gk_'), {
      ok: true,
      prefix: 'gk_',
      keyId,
      secret,
    });
    assert.deepEqual(parseToken(`gks_${keyId}_${secret}1r8NsC`, 'gks_'), {
      ok: true,
      prefix: 'gks_',
      keyId,
      secret,
    });
  });

  it('reports a bad checksum for every single-character substitution in key id, secret or checksum', () => {
    for (const prefix of ['gk_', 'gks_'] as const) {
      const { token } = issueToken(prefix);
      const separator = prefix.length + 12;
      for (let i = prefix.length; i < token.length; i++) {
        if (i === separator) continue;
        for (const replacement of BASE62) {
          if (replacement === token[i]) continue;
          const mutated = token.slice(0, i) + replacement + token.slice(i + 1);
          assert.deepEqual(
            parseToken(mutated, prefix),
            { ok: false, reason: 'bad_checksum' },
            `position ${i} -> ${replacement}`,
          );
        }
      }
    }
  });

  it('calls a changed prefix or separator character malformed', () => {
    const { token } = issueToken('gk_');
    for (const i of [0, 1, 2, 15]) {
      const mutated = token.slice(0, i) + 'x' + token.slice(i + 1);
      assert.deepEqual(parseToken(mutated, 'gk_'), { ok: false, reason: 'malformed' }, `position ${i}`);
    }
  });

  it('calls wrong prefixes, lengths and alphabets malformed', () => {
    const { token } = issueToken('gk_');
    const gks = issueToken('gks_').token;
    const body = token.slice(3);
    for (const bad of [
      token.replace('gk_', 'gks_'),
      token.replace('gk_', 'GK_'),
      gks,
      token.slice(0, -1),
      `${token}0`,
      `gk_${body.slice(1, 12)}_${body.slice(12)}`,
      `gk_${body.slice(0, 12)}0${body.slice(12)}`,
      `gk_${body.slice(0, 13)}0${body.slice(13)}`,
      `gk_${body.slice(0, 13)}${body.slice(14)}`,
      token.replace(/.$/, '-'),
      token.replace(/^(gk_.{5})./, '$1+'),
      token.replace(/^(gk_.{20})./, '$1é'),
      `${token}\n`,
      ` ${token}`,
      '',
      'gk_',
    ]) {
      assert.deepEqual(parseToken(bad, 'gk_'), { ok: false, reason: 'malformed' }, JSON.stringify(bad));
    }
    assert.deepEqual(parseToken(token, 'gks_'), { ok: false, reason: 'malformed' });
  });
});

describe('random generation', () => {
  it('draws base62 characters only from the alphabet and uniformly', () => {
    const sample = randomBase62(62 * 2000);
    assert.equal(sample.length, 62 * 2000);
    const counts = new Map<string, number>();
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1);
    for (const c of counts.keys()) assert.ok(BASE62.includes(c), `unexpected ${c}`);
    assert.equal(counts.size, 62);
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - 2000) ** 2 / 2000, 0);
    // 61 degrees of freedom: p < 1e-6 lies above ~130; a plain `byte % 62` bias scores ~800.
    assert.ok(chiSquare < 130, `chi-square ${chiSquare}`);
  });

  it('returns exactly the requested number of base62 characters and refuses impossible lengths', () => {
    for (const length of [0, 1, 12, 100]) assert.equal(randomBase62(length).length, length);
    for (const length of [-1, 1.5, Number.NaN]) assert.throws(() => randomBase62(length), RangeError);
  });

  it('generates base64url secrets of 32 bytes by default', () => {
    const secret = generateSecret();
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(secret, 'base64url').length, 32);
    assert.equal(Buffer.from(generateSecret(16), 'base64url').length, 16);
    assert.notEqual(generateSecret(), generateSecret());
  });
});

describe('digests and comparison', () => {
  it('hashes and MACs to the published SHA-256 and RFC 4231 vectors', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    assert.equal(sha256Hex('abc'), abc);
    assert.equal(sha256Hex(Buffer.from('abc')), abc);
    assert.equal(
      hmacSha256Hex(Buffer.from('Jefe'), 'what do ya want for nothing?'),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it('verifies a secret against its digest and nothing else', () => {
    const digest = digestSecret('s3cret');
    assert.equal(digest, sha256Hex('s3cret'));
    assert.equal(verifySecretDigest('s3cret', digest), true);
    assert.equal(verifySecretDigest('s3creT', digest), false);
    assert.equal(verifySecretDigest('s3cret', digest.slice(0, -1)), false);
    assert.equal(verifySecretDigest('s3cret', ''), false);
  });

  it('compares strings of different lengths without throwing', () => {
    assert.equal(constantTimeEqual('a', 'ab'), false);
    assert.equal(constantTimeEqual('', 'x'.repeat(1000)), false);
    assert.equal(constantTimeEqual('', ''), true);
    assert.equal(constantTimeEqual('same', 'same'), true);
    assert.equal(constantTimeEqual('same', 'Same'), false);
  });
});

describe('master key', () => {
  it('generates standard base64 that parses back to the same 32 bytes', () => {
    const text = generateMasterKey();
    assert.match(text, /^[A-Za-z0-9+/]{43}=$/);
    assert.deepEqual(parseMasterKey(text), Buffer.from(text, 'base64'));
  });

  it('accepts standard and url-safe base64 with surrounding whitespace', () => {
    const raw = Buffer.alloc(32, 0xfb);
    assert.deepEqual(parseMasterKey(raw.toString('base64')), raw);
    assert.deepEqual(parseMasterKey(raw.toString('base64url')), raw);
    assert.deepEqual(parseMasterKey(`  ${raw.toString('base64')}\n`), raw);
  });

  it('refuses anything but exactly 32 bytes of base64 with a fixed message', () => {
    const valid = generateMasterKey();
    for (const bad of [
      Buffer.alloc(31).toString('base64'),
      Buffer.alloc(33).toString('base64'),
      Buffer.alloc(31).toString('base64url'),
      'not base64 at all!',
      `${valid.slice(0, 20)} ${valid.slice(20)}`,
      `${valid.slice(0, 20)}=${valid.slice(20)}`,
      '',
    ]) {
      assert.throws(() => parseMasterKey(bad), { message: 'must be 32 bytes encoded as base64' }, bad);
    }
  });

  it('derives a stable, purpose-separated and key-separated 32-byte key', () => {
    const master = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    // HKDF-SHA256 (RFC 5869), empty salt, computed independently with Python's hmac module.
    assert.equal(
      deriveKey(master, 'csrf-v1').toString('hex'),
      'b71bdfcecc758b47146fa299cdc29a9b4411a3f8cc7baa12cdcc7206b39175e2',
    );
    assert.deepEqual(deriveKey(master, 'csrf'), deriveKey(master, 'csrf'));
    assert.notDeepEqual(deriveKey(master, 'csrf'), deriveKey(master, 'other'));
    assert.notDeepEqual(deriveKey(master, 'csrf'), deriveKey(parseMasterKey(generateMasterKey()), 'csrf'));
    assert.equal(deriveKey(master, 'csrf').length, 32);
  });

  it('names a master key by a stable 16-hex-character id', () => {
    const master = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    assert.equal(masterKeyId(master), 'b9ac0648174c866f');
    assert.notEqual(masterKeyId(parseMasterKey(generateMasterKey())), masterKeyId(master));
  });
});

describe('envelope encryption', () => {
  const oldKey = parseMasterKey(generateMasterKey());
  const newKey = parseMasterKey(generateMasterKey());
  const ringOf = (current: Buffer, ...others: Buffer[]): MasterKeyRing => ({
    currentKeyId: masterKeyId(current),
    keys: new Map([current, ...others].map((k) => [masterKeyId(k), k])),
  });
  const oldRing = ringOf(oldKey);
  const secret = 'sk-live-123';

  // Every failure must stay silent about what it protects.
  const assertFailsQuietly = (fn: () => unknown, message: RegExp) =>
    assert.throws(fn, (err: Error) => {
      assert.match(err.message, message);
      for (const leak of [
        secret,
        oldKey.toString('base64'),
        oldKey.toString('hex'),
        newKey.toString('base64'),
      ]) {
        assert.ok(!err.message.includes(leak), `message leaks: ${err.message}`);
      }
      return true;
    });

  const flipBit = (field: string, index: number) => {
    const raw = Buffer.from(field, 'base64url');
    raw[index < 0 ? raw.length + index : index]! ^= 0x01;
    return raw.toString('base64url');
  };

  it('round-trips through serialization, including empty and non-ASCII plaintexts', () => {
    for (const plaintext of [secret, '', 'pässwörd 🔑', 'x'.repeat(10_000)]) {
      const e = encryptSecret(oldRing, plaintext, 'provider:1');
      assert.equal(e.v, 1);
      assert.equal(e.kid, masterKeyId(oldKey));
      assert.equal(decryptSecret(oldRing, parseEnvelope(serializeEnvelope(e)), 'provider:1'), plaintext);
    }
    assert.equal(decryptSecret(oldRing, encryptSecret(oldRing, secret)), secret);
  });

  it('never produces the same envelope twice for the same plaintext', () => {
    const a = encryptSecret(oldRing, secret, 'provider:1');
    const b = encryptSecret(oldRing, secret, 'provider:1');
    assert.notEqual(a.ciphertext, b.ciphertext);
    assert.notEqual(a.iv, b.iv);
    assert.notEqual(a.wrappedKey, b.wrappedKey);
  });

  it('fails when the AAD differs from the one used to encrypt', () => {
    const e = encryptSecret(oldRing, secret, 'provider:1');
    assertFailsQuietly(() => decryptSecret(oldRing, e, 'provider:2'), /decryption failed/);
    assertFailsQuietly(() => decryptSecret(oldRing, e), /decryption failed/);
  });

  it('fails on any tampered ciphertext, tag, iv or wrapped key', () => {
    const e = encryptSecret(oldRing, secret, 'provider:1');
    for (const field of ['ciphertext', 'tag', 'iv', 'wrappedKey'] as const) {
      for (const index of [0, -1]) {
        const tampered: Envelope = { ...e, [field]: flipBit(e[field], index) };
        assertFailsQuietly(() => decryptSecret(oldRing, tampered, 'provider:1'), /decryption failed/);
      }
    }
  });

  it('refuses truncated tags and wrapped keys instead of checking fewer bytes', () => {
    const e = encryptSecret(oldRing, secret);
    const shortTag = Buffer.from(e.tag, 'base64url').subarray(0, 4).toString('base64url');
    assertFailsQuietly(() => decryptSecret(oldRing, { ...e, tag: shortTag }), /malformed envelope/);
    const shortWrap = Buffer.from(e.wrappedKey, 'base64url').subarray(0, 40).toString('base64url');
    assertFailsQuietly(() => decryptSecret(oldRing, { ...e, wrappedKey: shortWrap }), /malformed envelope/);
  });

  it('fails with "unknown key id" when the ring lacks the envelope key', () => {
    const e = encryptSecret(oldRing, secret);
    assertFailsQuietly(() => decryptSecret(oldRing, { ...e, kid: 'nope' }), /^unknown key id$/);
    assertFailsQuietly(() => decryptSecret(ringOf(newKey), e), /^unknown key id$/);
    assert.throws(() => encryptSecret({ currentKeyId: 'missing', keys: new Map() }, secret), {
      message: 'unknown key id',
    });
  });

  it('fails when a wrapped key is relabelled with another key id in the ring', () => {
    const both = ringOf(oldKey, newKey);
    const e = encryptSecret(both, secret);
    assertFailsQuietly(() => decryptSecret(both, { ...e, kid: masterKeyId(newKey) }), /decryption failed/);
  });

  it('re-wraps under a new master key so the old key can be retired', () => {
    const e = encryptSecret(oldRing, secret, 'provider:1');
    const rewrapped = rewrapEnvelope(ringOf(newKey, oldKey), e);
    assert.equal(rewrapped.kid, masterKeyId(newKey));
    assert.equal(rewrapped.ciphertext, e.ciphertext);
    assert.equal(rewrapped.iv, e.iv);
    assert.equal(rewrapped.tag, e.tag);
    assert.notEqual(rewrapped.wrappedKey, e.wrappedKey);
    assert.equal(decryptSecret(ringOf(newKey), rewrapped, 'provider:1'), secret);
    assertFailsQuietly(() => decryptSecret(oldRing, rewrapped, 'provider:1'), /^unknown key id$/);
    assertFailsQuietly(() => rewrapEnvelope(ringOf(newKey), e), /^unknown key id$/);
  });

  it('parses only well-formed envelopes and drops unknown fields', () => {
    const e = encryptSecret(oldRing, secret);
    assert.deepEqual(parseEnvelope(JSON.stringify({ ...e, extra: 'x' })), e);
    assert.deepEqual(Object.keys(parseEnvelope(serializeEnvelope(e))).sort(), Object.keys(e).sort());
    for (const bad of [
      'not json',
      'null',
      '[]',
      '"string"',
      JSON.stringify({ ...e, v: 2 }),
      JSON.stringify({ ...e, kid: '' }),
      JSON.stringify({ ...e, tag: 42 }),
      JSON.stringify({ ...e, iv: `${e.iv}=` }),
      JSON.stringify({ ...e, ciphertext: `${e.ciphertext}+/` }),
      JSON.stringify({ v: e.v, kid: e.kid, wrappedKey: e.wrappedKey, iv: e.iv, tag: e.tag }),
    ]) {
      assert.throws(() => parseEnvelope(bad), { message: 'malformed envelope' }, bad);
    }
  });
});

describe('constantTimeEqualDigests', () => {
  it('matches equal SHA-256 hex digests and nothing else', () => {
    const a = sha256Hex('a');
    assert.equal(constantTimeEqualDigests(a, sha256Hex('a')), true);
    assert.equal(constantTimeEqualDigests(a, sha256Hex('b')), false);
    assert.equal(constantTimeEqualDigests(a, a.slice(0, 63)), false);
    assert.equal(constantTimeEqualDigests('', ''), false);
    // A difference anywhere, first character or last, and a case change are all refused.
    const flip = (at: number) => a.slice(0, at) + (a[at] === '0' ? '1' : '0') + a.slice(at + 1);
    for (const at of [0, 31, 63]) assert.equal(constantTimeEqualDigests(a, flip(at)), false, `at ${at}`);
    assert.equal(
      constantTimeEqualDigests(
        a.replace(/[a-f]/, (c) => c.toUpperCase()),
        a,
      ),
      false,
    );
  });
});
