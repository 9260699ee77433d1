// The cache behind verified credentials: expiry, bounds, tag invalidation, and the ticket
// that keeps a value read before an invalidation from being stored after it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TtlCache } from './ttl-cache.ts';

const NOW = 1_000_000;

describe('TtlCache', () => {
  it('returns a value until its expiry and nothing from then on', () => {
    const cache = new TtlCache<string>({ maxEntries: 10 });
    cache.set('k', 'v', NOW + 100, [], cache.ticket(), NOW);
    assert.equal(cache.get('k', NOW + 99), 'v');
    assert.equal(cache.get('k', NOW + 100), undefined);
    assert.equal(cache.size, 0, 'an expired entry is removed when found');
  });

  it('drops every entry filed under a tag, and only those', () => {
    const cache = new TtlCache<string>({ maxEntries: 10 });
    const ticket = cache.ticket();
    cache.set('a', '1', NOW + 1000, ['user:1', 'org:1'], ticket, NOW);
    cache.set('b', '2', NOW + 1000, ['user:2', 'org:1'], ticket, NOW);
    cache.set('c', '3', NOW + 1000, ['user:3'], ticket, NOW);
    cache.invalidateTag('org:1');
    assert.equal(cache.get('a', NOW), undefined);
    assert.equal(cache.get('b', NOW), undefined);
    assert.equal(cache.get('c', NOW), '3');
    cache.invalidateTag('no-such-tag');
    assert.equal(cache.get('c', NOW), '3');
  });

  it('refuses a value whose read began before an invalidation', () => {
    const cache = new TtlCache<string>({ maxEntries: 10 });
    const ticket = cache.ticket();
    cache.invalidateTag('user:1'); // a revocation lands while the value is being read
    cache.set('k', 'stale', NOW + 1000, ['user:1'], ticket, NOW);
    assert.equal(cache.get('k', NOW), undefined);
    cache.set('k', 'fresh', NOW + 1000, ['user:1'], cache.ticket(), NOW);
    assert.equal(cache.get('k', NOW), 'fresh');
  });

  it('holds at most maxEntries, dropping the oldest first, and nothing at all with 0', () => {
    const cache = new TtlCache<number>({ maxEntries: 3 });
    for (let i = 0; i < 5; i++) cache.set(`k${i}`, i, NOW + 1000, [`t${i}`], cache.ticket(), NOW);
    assert.equal(cache.size, 3);
    assert.deepEqual(
      ['k0', 'k1', 'k2', 'k3', 'k4'].map((k) => cache.get(k, NOW)),
      [undefined, undefined, 2, 3, 4],
    );
    cache.invalidateTag('t0'); // the tag of a dropped entry is gone with it
    assert.equal(cache.size, 3);

    const off = new TtlCache<number>({ maxEntries: 0 });
    off.set('k', 1, NOW + 1000, [], off.ticket(), NOW);
    assert.equal(off.get('k', NOW), undefined);
  });

  it('replaces a value stored again under the same key, with the new tags only', () => {
    const cache = new TtlCache<string>({ maxEntries: 10 });
    cache.set('k', 'old', NOW + 1000, ['user:1'], cache.ticket(), NOW);
    cache.set('k', 'new', NOW + 1000, ['user:2'], cache.ticket(), NOW);
    cache.invalidateTag('user:1');
    assert.equal(cache.get('k', NOW), 'new');
    cache.invalidateTag('user:2');
    assert.equal(cache.get('k', NOW), undefined);
  });

  it('forgets everything on clear, and a read begun before it is not stored', () => {
    const cache = new TtlCache<string>({ maxEntries: 10 });
    cache.set('k', 'v', NOW + 1000, [], cache.ticket(), NOW);
    const ticket = cache.ticket();
    cache.clear();
    assert.equal(cache.get('k', NOW), undefined);
    cache.set('k', 'v', NOW + 1000, [], ticket, NOW);
    assert.equal(cache.get('k', NOW), undefined);
  });

  it('does not store a value that is already expired', () => {
    const cache = new TtlCache<string>({ maxEntries: 10 });
    cache.set('k', 'v', NOW, [], cache.ticket(), NOW);
    assert.equal(cache.size, 0);
  });
});
