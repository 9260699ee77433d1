// Canonical JSON feeds the audit hash chain: the same value must give the same bytes on any
// node, whatever order its keys were built in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson', () => {
  it('gives the same text whatever order the keys were inserted in', () => {
    const a = { b: 1, a: { d: [1, 2], c: 'x' }, e: null };
    const b = { e: null, a: { c: 'x', d: [1, 2] }, b: 1 };
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.equal(canonicalJson(a), '{"a":{"c":"x","d":[1,2]},"b":1,"e":null}');
  });

  it('sorts keys inside objects nested in arrays, and keeps array order', () => {
    assert.equal(
      canonicalJson([{ z: 1, y: [{ q: true, p: false }] }, [3, [2, 1]]]),
      '[{"y":[{"p":false,"q":true}],"z":1},[3,[2,1]]]',
    );
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
  });

  it('sorts keys by code unit, not locale', () => {
    assert.equal(canonicalJson({ b: 0, B: 0, a: 0, _: 0, é: 0 }), '{"B":0,"_":0,"a":0,"b":0,"é":0}');
  });

  it('drops undefined object members, as JSON.stringify does', () => {
    assert.equal(canonicalJson({ a: undefined, b: 1, c: { d: undefined } }), '{"b":1,"c":{}}');
    assert.equal(canonicalJson({ a: undefined, b: 1 }), canonicalJson({ b: 1 }));
  });

  it('writes undefined array items and a bare undefined as null', () => {
    assert.equal(canonicalJson([1, undefined, 3]), '[1,null,3]');
    assert.equal(canonicalJson(undefined), 'null');
  });

  it('refuses non-finite numbers anywhere in the value', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => canonicalJson(bad), /non-finite/);
      assert.throws(() => canonicalJson({ a: { b: [1, bad] } }), /non-finite/);
    }
  });

  it('escapes strings and keys the way JSON does and writes no whitespace', () => {
    const value = { 'k"ey': 'line\nbreak "quoted" \\ \u2028', n: -1.5e-7 };
    assert.equal(canonicalJson(value), JSON.stringify(value));
    assert.equal(canonicalJson({ b: [1, { c: 2 }], a: 's p' }), '{"a":"s p","b":[1,{"c":2}]}');
  });

  it('round-trips: parsing the text and canonicalizing again gives the same text', () => {
    const value = { z: [{ b: 2, a: 1 }], a: 'ü', m: { y: null, x: false } };
    const text = canonicalJson(value);
    assert.equal(canonicalJson(JSON.parse(text)), text);
  });

  it('hashes a Date as its JSON form, so it survives a round trip', () => {
    const value = { at: new Date(0) };
    assert.equal(canonicalJson(value), canonicalJson(JSON.parse(JSON.stringify(value))));
  });

  it('refuses values with no faithful JSON form', () => {
    assert.throws(() => canonicalJson({ f: () => 1 }), /function/);
    assert.throws(() => canonicalJson({ m: new Map([[1, 2]]) }), /non-plain object/);
    assert.throws(() => canonicalJson(10n), /bigint/);
  });
});
