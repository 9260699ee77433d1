// The per-address limit on failed authentications: a fixed window per address, 429 with
// Retry-After once the failures are used up, other addresses unaffected, bounded memory.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isGatehouseError } from '../core/errors.ts';
import { createFailureLimiter } from './failure-limiter.ts';

const NOW = 5_000_000;
const config = { enabled: true, maxFailures: 3, windowMs: 60_000, maxAddresses: 100 };

function refusal(run: () => void): { code: string; retryAfter: string | undefined } | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    assert.ok(isGatehouseError(error));
    return { code: error.code, retryAfter: error.headers?.['retry-after'] };
  }
}

describe('failure limiter', () => {
  it('lets an address fail up to the limit, then answers 429 until its window ends', () => {
    const limiter = createFailureLimiter(config);
    for (let i = 0; i < 3; i++) {
      assert.equal(
        refusal(() => limiter.check('10.0.0.1', NOW + i)),
        undefined,
        `attempt ${i + 1}`,
      );
      limiter.recordFailure('10.0.0.1', NOW + i);
    }
    assert.deepEqual(
      refusal(() => limiter.check('10.0.0.1', NOW + 10)),
      {
        code: 'too_many_failed_authentications',
        retryAfter: '60',
      },
    );
    assert.equal(refusal(() => limiter.check('10.0.0.1', NOW + 30_500))?.retryAfter, '30');
    // The same refusal returned instead of thrown, for forward auth's hot path.
    assert.equal(limiter.refusal('10.0.0.1', NOW + 30_500)?.headers?.['retry-after'], '30');
    assert.equal(limiter.refusal('10.0.0.2', NOW + 30_500), undefined, 'another address');
    assert.equal(
      refusal(() => limiter.check('10.0.0.1', NOW + 60_000)),
      undefined,
      'a new window',
    );
  });

  it('keeps other addresses, and requests without an address, out of it', () => {
    const limiter = createFailureLimiter(config);
    for (let i = 0; i < 5; i++) limiter.recordFailure('10.0.0.1', NOW);
    assert.ok(refusal(() => limiter.check('10.0.0.1', NOW)));
    assert.equal(
      refusal(() => limiter.check('10.0.0.2', NOW)),
      undefined,
    );
    limiter.recordFailure(undefined, NOW);
    assert.equal(
      refusal(() => limiter.check(undefined, NOW)),
      undefined,
    );
  });

  it('does nothing when disabled', () => {
    const limiter = createFailureLimiter({ ...config, enabled: false });
    for (let i = 0; i < 10; i++) limiter.recordFailure('10.0.0.1', NOW);
    assert.equal(
      refusal(() => limiter.check('10.0.0.1', NOW)),
      undefined,
    );
  });

  it('forgets the oldest addresses first once it tracks maxAddresses', () => {
    const limiter = createFailureLimiter({ ...config, maxAddresses: 2 });
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3'])
      for (let i = 0; i < 3; i++) limiter.recordFailure(address, NOW);
    assert.equal(
      refusal(() => limiter.check('10.0.0.1', NOW)),
      undefined,
      'forgotten',
    );
    assert.ok(refusal(() => limiter.check('10.0.0.2', NOW)));
    assert.ok(refusal(() => limiter.check('10.0.0.3', NOW)));
  });
});
