// The pure judgements each step makes of what a server answered, without any server.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeAuthorizationServerMetadata } from './authorization-server.ts';
import { judgeChallenge } from './challenge.ts';
import { judgeChallengeExposure, judgePreflight, judgeSimpleGet } from './cors.ts';
import { judgeRegistration } from './registration.ts';
import { formatHumanReport, isControlCharacter, redactSecret } from './report.ts';
import { judgeResourceMetadata } from './resource-metadata.ts';
import { judgeTokenClaims } from './token-audience.ts';

const headers = (entries: Record<string, string>) => new Headers(entries);

describe('judgeChallenge', () => {
  it('passes a Bearer challenge naming an absolute resource_metadata URL', () => {
    const judged = judgeChallenge('Bearer error="invalid_token", resource_metadata="https://x.example/prm"');
    assert.equal(judged.status, 'pass');
    assert.equal(judged.resourceMetadataUrl?.href, 'https://x.example/prm');
  });

  it('warns on a Bearer challenge without resource_metadata: clients fall back to well-known locations', () => {
    assert.equal(judgeChallenge('Bearer realm="mcp"').status, 'warn');
  });

  for (const [header, pattern] of [
    [null, /without WWW-Authenticate/],
    ['Basic realm="x"', /challenging with Basic, not Bearer/],
    ['Bearer resource_metadata="/relative"', /not an absolute http\(s\) URL/],
    ['Bearer resource_metadata="https://x.example', /cannot parse/],
  ] as const) {
    it(`fails ${JSON.stringify(header)}`, () => {
      const judged = judgeChallenge(header);
      assert.equal(judged.status, 'fail');
      assert.match(judged.detail, pattern);
    });
  }
});

describe('judgeResourceMetadata', () => {
  const canonical = 'https://x.example/mcp';
  it('accepts the canonical resource and an authorization server', () => {
    const judged = judgeResourceMetadata(
      { resource: canonical, authorization_servers: ['https://auth.example/'] },
      canonical,
    );
    assert.deepEqual(judged.problems, []);
    assert.equal(judged.authorizationServer, 'https://auth.example/');
  });

  it('names a trailing-slash mismatch as such', () => {
    const { problems } = judgeResourceMetadata(
      { resource: `${canonical}/`, authorization_servers: ['https://auth.example'] },
      canonical,
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /trailing slash/);
  });

  it('wants a non-empty authorization_servers and an object', () => {
    assert.match(
      judgeResourceMetadata({ resource: canonical, authorization_servers: [] }, canonical).problems[0]!,
      /authorization_servers is missing or empty/,
    );
    assert.match(judgeResourceMetadata([], canonical).problems[0]!, /not a JSON object/);
  });
});

describe('judgeAuthorizationServerMetadata', () => {
  const issuer = 'https://id.example.com/oauth';
  const good = {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    registration_endpoint: `${issuer}/register`,
    jwks_uri: `${issuer}/jwks`,
  };

  it('accepts what MCP clients need and notes how clients can identify themselves', () => {
    const judged = judgeAuthorizationServerMetadata(good, issuer);
    assert.deepEqual(judged.problems, []);
    assert.equal(judged.metadata?.registrationEndpoint, `${issuer}/register`);
    assert.equal(judged.metadata?.clientIdMetadataDocumentSupported, false);
    assert.equal(judged.metadata?.jwksUri, `${issuer}/jwks`);
  });

  for (const [change, pattern] of [
    [{ issuer: `${issuer}/` }, /issuer "https:\/\/id.example.com\/oauth\/" is not/],
    [{ code_challenge_methods_supported: ['plain'] }, /lacks S256/],
    [{ code_challenge_methods_supported: undefined }, /code_challenge_methods_supported is missing/],
    [{ token_endpoint: undefined }, /token_endpoint is missing/],
    [{ response_types_supported: ['token'] }, /response_types_supported .* lacks code/],
  ] as const) {
    it(`fails ${JSON.stringify(change)}`, () => {
      const judged = judgeAuthorizationServerMetadata({ ...good, ...change }, issuer);
      assert.equal(judged.metadata, undefined);
      assert.match(judged.problems.join('\n'), pattern);
    });
  }
});

describe('judgePreflight', () => {
  const mcpPost = {
    method: 'POST',
    headers: ['authorization', 'content-type', 'mcp-protocol-version'],
  } as const;

  it('accepts listed headers in any case', () => {
    const verdict = judgePreflight(
      {
        status: 204,
        headers: headers({
          'access-control-allow-origin': '*',
          'access-control-allow-headers': 'Authorization, Content-Type, Mcp-Protocol-Version',
        }),
      },
      mcpPost,
    );
    assert.ok(verdict.ok, verdict.problem);
  });

  it('does not let * stand for Authorization (Fetch standard)', () => {
    const verdict = judgePreflight(
      {
        status: 204,
        headers: headers({ 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' }),
      },
      mcpPost,
    );
    assert.equal(verdict.ok, false);
    assert.match(verdict.problem!, /the header authorization$/);
  });

  it('wants the origin allowed and an ok status', () => {
    assert.match(
      judgePreflight({ status: 204, headers: headers({}) }, { method: 'GET', headers: [] }).problem!,
      /allows no other origin/,
    );
    assert.match(
      judgePreflight(
        { status: 405, headers: headers({ 'access-control-allow-origin': '*' }) },
        { method: 'GET', headers: [] },
      ).problem!,
      /answered 405/,
    );
  });

  it('accepts the origin echoed back', () => {
    assert.ok(
      judgePreflight(
        { status: 200, headers: headers({ 'access-control-allow-origin': 'https://doctor.invalid' }) },
        { method: 'GET', headers: [] },
      ).ok,
    );
  });

  it('reads a plain GET and the 401 a browser must be able to read', () => {
    assert.equal(judgeSimpleGet({ status: 200, headers: headers({}) }).ok, false);
    const unexposed = judgeChallengeExposure({
      status: 401,
      headers: headers({ 'access-control-allow-origin': '*' }),
    });
    assert.match(unexposed.problem!, /does not expose WWW-Authenticate/);
    assert.ok(
      judgeChallengeExposure({
        status: 401,
        headers: headers({
          'access-control-allow-origin': '*',
          'access-control-expose-headers': 'WWW-Authenticate',
        }),
      }).ok,
    );
  });
});

describe('judgeRegistration', () => {
  it('passes 201 with a client_id and no secret', () => {
    assert.equal(judgeRegistration({ status: 201, body: '{"client_id":"abc"}' }).status, 'pass');
  });

  it('warns on 200, fails on a secret without printing it, and explains a refusal', () => {
    assert.equal(judgeRegistration({ status: 200, body: '{"client_id":"abc"}' }).status, 'warn');
    const secret = judgeRegistration({
      status: 201,
      body: '{"client_id":"abc","client_secret":"s3cr3t-value"}',
    });
    assert.equal(secret.status, 'fail');
    assert.doesNotMatch(secret.detail, /s3cr3t-value/);
    const refused = judgeRegistration({
      status: 400,
      body: '{"error":"invalid_redirect_uri","error_description":"no loopback"}',
    });
    assert.equal(refused.status, 'fail');
    assert.match(refused.detail, /400: invalid_redirect_uri \("no loopback"\)/);
  });
});

describe('judgeTokenClaims', () => {
  const expected = {
    resource: 'https://x.example/mcp',
    issuer: 'https://x.example/oauth',
    now: new Date(1_800_000_000_000),
  };
  const exp = 1_800_000_000 + 600;

  it('accepts aud as a string or a list holding the resource', () => {
    assert.deepEqual(judgeTokenClaims({ aud: expected.resource, iss: expected.issuer, exp }, expected), []);
    assert.deepEqual(
      judgeTokenClaims({ aud: ['other', expected.resource], iss: expected.issuer, exp }, expected),
      [],
    );
  });

  it('names a wrong audience, a wrong issuer and an expired token', () => {
    const problems = judgeTokenClaims(
      { aud: `${expected.resource}/`, iss: 'https://other.example', exp: 1_800_000_000 - 600 },
      expected,
    );
    assert.equal(problems.length, 3);
    assert.match(problems[0]!, /aud "https:\/\/x.example\/mcp\/" does not name/);
    assert.match(problems[1]!, /iss "https:\/\/other.example" is not/);
    assert.match(problems[2]!, /expired/);
  });
});

describe('redactSecret', () => {
  it('replaces a token a server echoed, in details and in the URLs tried', () => {
    const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    const redacted = redactSecret(
      {
        url: 'https://x.example/mcp',
        ok: false,
        steps: [
          {
            step: 'token-audience',
            status: 'fail',
            detail: `error_description "token ${token} is unknown"`,
            urls: [{ method: 'POST', url: 'https://x.example/mcp', status: 401, note: `echo ${token}` }],
          },
        ],
      },
      token,
    );
    assert.doesNotMatch(JSON.stringify(redacted), /eyJhbGciOiJFUzI1NiJ9/);
    assert.match(redacted.steps[0]!.detail, /token \[token\] is unknown/);
  });
});

describe('formatHumanReport', () => {
  it('never lets a server-provided control character reach the terminal', () => {
    const text = formatHumanReport({
      url: 'https://x.example/mcp',
      ok: false,
      steps: [{ step: 'challenge', status: 'fail', detail: 'answered \u001b[2Jboo\u0007' }],
    });
    const controls = [...text].filter((char) => char !== '\n' && isControlCharacter(char));
    assert.deepEqual(controls, []);
    assert.match(text, /^FAIL {2}challenge {13}answered \\u001b\[2Jboo\\u0007$/m);
  });
});
