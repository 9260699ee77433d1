import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authorizationServerMetadataUrls,
  canonicalResourceUrl,
  compareResource,
  InvalidServerUrlError,
  parseMcpServerUrl,
  resourceMetadataFallbacks,
} from './resource-url.ts';

describe('canonicalResourceUrl', () => {
  for (const [input, canonical] of [
    ['https://id.example.com/mcp', 'https://id.example.com/mcp'],
    ['HTTPS://ID.Example.COM/mcp', 'https://id.example.com/mcp'],
    ['https://id.example.com/mcp/', 'https://id.example.com/mcp'],
    ['https://id.example.com/mcp//', 'https://id.example.com/mcp'],
    ['https://id.example.com/', 'https://id.example.com'],
    ['https://id.example.com', 'https://id.example.com'],
    ['https://id.example.com:443/mcp', 'https://id.example.com/mcp'],
    ['http://127.0.0.1:8080/mcp#section', 'http://127.0.0.1:8080/mcp'],
    ['https://id.example.com/Tenant/MCP', 'https://id.example.com/Tenant/MCP'],
    ['https://id.example.com/mcp/?tenant=a', 'https://id.example.com/mcp?tenant=a'],
  ] as const) {
    it(`makes ${input} ${canonical}`, () => assert.equal(canonicalResourceUrl(input), canonical));
  }
});

describe('compareResource', () => {
  const canonical = 'https://id.example.com/mcp';
  for (const [advertised, kind] of [
    ['https://id.example.com/mcp', 'same'],
    ['https://id.example.com/mcp/', 'trailing-slash'],
    ['https://ID.example.com/mcp', 'not-canonical'],
    ['https://id.example.com:443/mcp', 'not-canonical'],
    ['https://id.example.com/mcp#x', 'not-canonical'],
    ['https://id.example.com', 'parent'],
    ['https://id.example.com/', 'parent'],
    ['https://id.example.com/mc', 'different'],
    ['https://id.example.com/mcp/v2', 'different'],
    ['https://other.example.com/mcp', 'different'],
    ['not a url', 'invalid'],
    ['urn:example:mcp', 'invalid'],
  ] as const) {
    it(`calls ${JSON.stringify(advertised)} ${kind}`, () =>
      assert.equal(compareResource(advertised, canonical).kind, kind));
  }

  it('flags a trailing slash on a bare origin', () => {
    assert.equal(compareResource('https://id.example.com/', 'https://id.example.com').kind, 'trailing-slash');
  });
});

describe('parseMcpServerUrl', () => {
  it('drops the fragment and keeps the rest', () => {
    assert.equal(
      parseMcpServerUrl('https://id.example.com/mcp?x=1#f').href,
      'https://id.example.com/mcp?x=1',
    );
  });

  for (const raw of [
    '',
    'id.example.com/mcp',
    'ftp://id.example.com/mcp',
    'file:///etc/passwd',
    'https://u:p@id.example.com/mcp',
  ])
    it(`refuses ${JSON.stringify(raw)}`, () =>
      assert.throws(() => parseMcpServerUrl(raw), InvalidServerUrlError));
});

describe('well-known locations', () => {
  it('tries the path-inserted protected-resource document first, then the root', () => {
    assert.deepEqual(resourceMetadataFallbacks(new URL('https://x.example/tenant/mcp/')), [
      { url: 'https://x.example/.well-known/oauth-protected-resource/tenant/mcp', source: 'path-inserted' },
      { url: 'https://x.example/.well-known/oauth-protected-resource', source: 'root' },
    ]);
  });

  it('tries only the root for a server at the root', () => {
    assert.deepEqual(
      resourceMetadataFallbacks(new URL('https://x.example/')).map((c) => c.source),
      ['root'],
    );
  });

  it('orders authorization-server metadata as the MCP spec does for an issuer with a path', () => {
    assert.deepEqual(
      authorizationServerMetadataUrls(new URL('https://id.example.com/oauth')).map((c) => c.url),
      [
        'https://id.example.com/.well-known/oauth-authorization-server/oauth',
        'https://id.example.com/.well-known/openid-configuration/oauth',
        'https://id.example.com/oauth/.well-known/openid-configuration',
      ],
    );
  });

  it('tries RFC 8414 then OpenID Connect at the root for an issuer without a path', () => {
    assert.deepEqual(
      authorizationServerMetadataUrls(new URL('https://auth.example.com')).map((c) => c.url),
      [
        'https://auth.example.com/.well-known/oauth-authorization-server',
        'https://auth.example.com/.well-known/openid-configuration',
      ],
    );
  });
});
