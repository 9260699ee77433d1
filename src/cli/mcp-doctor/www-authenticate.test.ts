import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isScheme, parseWwwAuthenticate, WwwAuthenticateSyntaxError } from './www-authenticate.ts';

const paramsOf = (header: string, index = 0) =>
  Object.fromEntries(parseWwwAuthenticate(header)[index]!.params);

describe('parseWwwAuthenticate', () => {
  it('reads the challenge Gatehouse sends without a credential', () => {
    const [bearer, ...rest] = parseWwwAuthenticate(
      'Bearer resource_metadata="https://id.example.com/.well-known/oauth-protected-resource/mcp"',
    );
    assert.equal(rest.length, 0);
    assert.equal(bearer!.scheme, 'Bearer');
    assert.deepEqual(Object.fromEntries(bearer!.params), {
      resource_metadata: 'https://id.example.com/.well-known/oauth-protected-resource/mcp',
    });
  });

  it('keeps commas and escaped quotes inside quoted strings as part of the value', () => {
    const params = paramsOf(
      'Bearer error="invalid_token", error_description="The token \\"abc\\" expired, sign in again", resource_metadata="https://x.example/m"',
    );
    assert.equal(params.error_description, 'The token "abc" expired, sign in again');
    assert.equal(params.resource_metadata, 'https://x.example/m');
  });

  it('unescapes any quoted-pair, not only quotes', () => {
    assert.equal(paramsOf('Bearer realm="a\\\\b\\c"').realm, 'a\\bc');
  });

  it('separates several challenges in one value, with parameters belonging to the right one', () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="legacy, old", Bearer realm="mcp", scope="a b", resource_metadata="https://x.example/prm", DPoP algs="ES256"',
    );
    assert.deepEqual(
      challenges.map((c) => [c.scheme, Object.fromEntries(c.params)]),
      [
        ['Basic', { realm: 'legacy, old' }],
        ['Bearer', { realm: 'mcp', scope: 'a b', resource_metadata: 'https://x.example/prm' }],
        ['DPoP', { algs: 'ES256' }],
      ],
    );
  });

  it('reads several WWW-Authenticate fields joined with a comma as fetch joins them', () => {
    const challenges = parseWwwAuthenticate('Negotiate, Bearer resource_metadata="https://x.example/prm"');
    assert.deepEqual(
      challenges.map((c) => c.scheme),
      ['Negotiate', 'Bearer'],
    );
    assert.equal(challenges[1]!.params.get('resource_metadata'), 'https://x.example/prm');
  });

  it('matches the scheme and parameter names without regard to case', () => {
    const [challenge] = parseWwwAuthenticate('bEaReR Resource_Metadata="https://x.example/prm"');
    assert.ok(isScheme(challenge!, 'Bearer'));
    assert.equal(challenge!.params.get('resource_metadata'), 'https://x.example/prm');
  });

  it('accepts token values, whitespace around "=" and empty list elements', () => {
    const params = paramsOf(' , Bearer  error = invalid_token ,, realm=""  ,');
    assert.deepEqual(params, { error: 'invalid_token', realm: '' });
  });

  it('reads a token68 credential and a bare scheme', () => {
    const challenges = parseWwwAuthenticate('Basic dXNlcjpwYXNz==, Bearer');
    assert.equal(challenges[0]!.token68, 'dXNlcjpwYXNz==');
    assert.equal(challenges[0]!.params.size, 0);
    assert.equal(challenges[1]!.scheme, 'Bearer');
    assert.equal(challenges[1]!.params.size, 0);
  });

  it('does not mistake a parameter whose name is a prefix of another for it', () => {
    const params = paramsOf(
      'Bearer x_resource_metadata="https://evil.example/", resource_metadata="https://x.example/prm"',
    );
    assert.equal(params.resource_metadata, 'https://x.example/prm');
  });

  it('answers no challenges for an empty value', () => {
    assert.deepEqual(parseWwwAuthenticate(''), []);
  });

  for (const [header, reason] of [
    ['Bearer realm="unterminated', /unterminated quoted string/],
    ['Bearer realm="a" scope="b"', /expected "," after parameter realm/],
    // (`Bearer realm=` alone is a token68; after a parameter it can only be one more.)
    ['Bearer error="x", realm=', /realm has no value/],
    ['Bearer realm="a", realm="b"', /realm appears twice/],
    ['="x"', /expected an auth-scheme/],
    ['Bearer;realm="a"', /after auth-scheme Bearer/],
  ] as const) {
    it(`refuses ${JSON.stringify(header)} with its reason and position`, () => {
      assert.throws(
        () => parseWwwAuthenticate(header),
        (error: unknown) =>
          error instanceof WwwAuthenticateSyntaxError && reason.test(error.message) && error.position >= 0,
      );
    });
  }
});
