import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  constantTimeEqual,
  decryptSecret,
  deriveKey,
  digestSecret,
  encryptSecret,
  generateMasterKey,
  issueToken,
  masterKeyId,
  parseEnvelope,
  parseMasterKey,
  parseToken,
  randomBase62,
  rewrapEnvelope,
  serializeEnvelope,
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

  it('rejects any single changed character through the checksum or the format', () => {
    const { token } = issueToken('gk_');
    for (let i = 3; i < token.length; i++) {
      if (token[i] === '_') continue;
      const replacement = token[i] === 'a' ? 'b' : 'a';
      const mutated = token.slice(0, i) + replacement + token.slice(i + 1);
      const parsed = parseToken(mutated, 'gk_');
      assert.equal(parsed.ok, false, `position ${i} accepted`);
    }
  });

  it('calls wrong prefixes, lengths and alphabets malformed', () => {
    const { token } = issueToken('gk_');
    for (const bad of [
      token.replace('gk_', 'gks_'),
      token.slice(0, -1),
      `${token}0`,
      token.replace(/.$/, '-'),
      '',
      'gk_',
    ]) {
      assert.deepEqual(parseToken(bad, 'gk_'), { ok: false, reason: 'malformed' });
    }
    assert.deepEqual(parseToken(token, 'gks_'), { ok: false, reason: 'malformed' });
  });

  it('draws base62 characters uniformly', () => {
    const sample = randomBase62(62 * 2000);
    const counts = new Map<string, number>();
    for (const c of sample) counts.set(c, (counts.get(c) ?? 0) + 1);
    assert.equal(counts.size, 62);
    for (const c of counts.keys()) assert.ok(BASE62.includes(c));
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - 2000) ** 2 / 2000, 0);
    // 61 degrees of freedom: p < 1e-6 lies above ~130; a modulo bias would be far above.
    assert.ok(chiSquare < 130, `chi-square ${chiSquare}`);
  });
});

describe('digests and comparison', () => {
  it('verifies a secret against its digest and nothing else', () => {
    const digest = digestSecret('s3cret');
    assert.equal(verifySecretDigest('s3cret', digest), true);
    assert.equal(verifySecretDigest('s3creT', digest), false);
  });

  it('compares strings of different lengths without throwing', () => {
    assert.equal(constantTimeEqual('a', 'ab'), false);
    assert.equal(constantTimeEqual('', ''), true);
    assert.equal(constantTimeEqual('same', 'same'), true);
  });
});

describe('master key', () => {
  it('accepts exactly 32 bytes of base64 and refuses anything else', () => {
    assert.equal(parseMasterKey(generateMasterKey()).length, 32);
    assert.equal(parseMasterKey(Buffer.alloc(32, 7).toString('base64url')).length, 32);
    for (const bad of [
      Buffer.alloc(31).toString('base64'),
      Buffer.alloc(33).toString('base64'),
      'not base64 at all!',
      '',
    ]) {
      assert.throws(() => parseMasterKey(bad), /32 bytes/);
    }
  });

  it('derives a stable, purpose-separated key', () => {
    const master = parseMasterKey(generateMasterKey());
    assert.deepEqual(deriveKey(master, 'csrf'), deriveKey(master, 'csrf'));
    assert.notDeepEqual(deriveKey(master, 'csrf'), deriveKey(master, 'other'));
    assert.equal(deriveKey(master, 'csrf').length, 32);
  });
});

describe('envelope encryption', () => {
  const oldKey = parseMasterKey(generateMasterKey());
  const newKey = parseMasterKey(generateMasterKey());
  const oldRing = { currentKeyId: masterKeyId(oldKey), keys: new Map([[masterKeyId(oldKey), oldKey]]) };

  it('round-trips and never repeats a ciphertext', () => {
    const a = encryptSecret(oldRing, 'sk-live-123', 'provider:1');
    const b = encryptSecret(oldRing, 'sk-live-123', 'provider:1');
    assert.notEqual(a.ciphertext, b.ciphertext);
    assert.equal(decryptSecret(oldRing, parseEnvelope(serializeEnvelope(a)), 'provider:1'), 'sk-live-123');
  });

  it('fails on a wrong AAD, a tampered field or an unknown key id, without echoing the secret', () => {
    const e = encryptSecret(oldRing, 'sk-live-123', 'provider:1');
    assert.throws(
      () => decryptSecret(oldRing, e, 'provider:2'),
      (err: Error) => !err.message.includes('sk-live'),
    );
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    for (const field of ['ciphertext', 'tag', 'iv', 'wrappedKey'] as const) {
      assert.throws(() => decryptSecret(oldRing, { ...e, [field]: flip(e[field]) }, 'provider:1'));
    }
    assert.throws(() => decryptSecret(oldRing, { ...e, kid: 'nope' }, 'provider:1'), /unknown key id/);
    assert.throws(() => parseEnvelope('{"v":2}'), /malformed envelope/);
  });

  it('re-wraps under a new master key so the old key can be retired', () => {
    const e = encryptSecret(oldRing, 'sk-live-123');
    const rotating = {
      currentKeyId: masterKeyId(newKey),
      keys: new Map([
        [masterKeyId(oldKey), oldKey],
        [masterKeyId(newKey), newKey],
      ]),
    };
    const rewrapped = rewrapEnvelope(rotating, e);
    assert.equal(rewrapped.ciphertext, e.ciphertext);
    const newOnly = { currentKeyId: masterKeyId(newKey), keys: new Map([[masterKeyId(newKey), newKey]]) };
    assert.equal(decryptSecret(newOnly, rewrapped), 'sk-live-123');
    assert.throws(() => decryptSecret(oldRing, rewrapped), /unknown key id/);
  });
});
