// The generated operator docs stay in step with their sources (ARCHITECTURE.md, conventions
// 3 and 4): docs/configuration.md with the variables table, docs/errors.md with the error
// catalogs; and every error code is owned by exactly one catalog.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderConfigurationDoc, renderDocs, renderErrorsDoc } from '../../scripts/generate-docs.ts';
import { variables } from '../../src/config.ts';
import { catalogOwner, defineErrors, type ErrorCatalog, listCatalog } from '../../src/core/errors.ts';
import { errorCatalogs } from '../../src/error-catalog.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Codes defined more than once across (and within) the catalogs, with every owner that defines each. */
function duplicateCodes(catalogs: readonly ErrorCatalog<string>[]): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const catalog of catalogs) {
    const { owner, definitions } = listCatalog(catalog);
    for (const { code } of definitions) owners.set(code, [...(owners.get(code) ?? []), owner]);
  }
  return new Map([...owners].filter(([, list]) => list.length > 1));
}

function errorsFilesUnder(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...errorsFilesUnder(path));
    else if (entry.name === 'errors.ts') found.push(path);
  }
  return found;
}

function isCatalog(value: unknown): value is ErrorCatalog<string> {
  return typeof value === 'object' && value !== null && catalogOwner in value;
}

describe('generated docs', () => {
  for (const [path, expected] of renderDocs()) {
    it(`${path} matches what scripts/generate-docs.ts renders (run npm run docs:generate)`, () => {
      const actual = readFileSync(join(root, path), 'utf8');
      assert.equal(actual, expected, `${path} is stale: run npm run docs:generate`);
    });
  }

  it('documents every configuration variable with its default and secret flag', () => {
    const doc = renderConfigurationDoc();
    assert.match(doc, /npm run docs:generate/);
    for (const v of variables) {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${v.name}\` |`));
      assert.ok(row, `${v.name} has no row`);
      assert.ok(row.endsWith(v.secret ? '| yes |' : '| no |'), `${v.name} secret flag`);
    }
  });

  it('documents every error code with its status under its owner', () => {
    const doc = renderErrorsDoc();
    for (const catalog of errorCatalogs) {
      const { owner, definitions } = listCatalog(catalog);
      const section = doc.split(`\n## ${owner}\n`)[1]?.split('\n## ')[0];
      assert.ok(section, `no section for ${owner}`);
      for (const d of definitions) assert.ok(section.includes(`| \`${d.code}\` | ${d.status} |`), d.code);
    }
    for (const format of [
      '"request_id"',
      'RFC 6749',
      'urn:ietf:params:scim:api:messages:2.0:Error',
      'HTML',
    ]) {
      assert.ok(doc.includes(format), `the intro describes ${format}`);
    }
  });
});

describe('error catalogs', () => {
  it('gives every code exactly one owner', () => {
    const duplicates = duplicateCodes(errorCatalogs);
    assert.deepEqual(Object.fromEntries(duplicates), {}, 'codes defined more than once');
  });

  it('detects a code that two catalogs share', () => {
    const a = defineErrors('a', { x: { code: 'same_code', status: 400, message: 'A.' } });
    const b = defineErrors('b', { y: { code: 'same_code', status: 409, message: 'B.' } });
    assert.deepEqual(Object.fromEntries(duplicateCodes([a, b])), { same_code: ['a', 'b'] });
  });

  it('uses snake_case codes, HTTP error statuses and distinct owners', () => {
    const owners = errorCatalogs.map((c) => listCatalog(c).owner);
    assert.equal(new Set(owners).size, owners.length, `owners repeat: ${owners.join(', ')}`);
    for (const catalog of errorCatalogs) {
      for (const d of listCatalog(catalog).definitions) {
        assert.match(d.code, /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, d.code);
        assert.ok(Number.isInteger(d.status) && d.status >= 400 && d.status <= 599, `${d.code} ${d.status}`);
        assert.ok(d.message.length > 0, `${d.code} has a message`);
      }
    }
  });

  it('lists every catalog defined in a src/**/errors.ts in src/error-catalog.ts', async () => {
    const listed = new Set<unknown>(errorCatalogs);
    const missing: string[] = [];
    for (const file of errorsFilesUnder(join(root, 'src'))) {
      const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(module)) {
        if (isCatalog(value) && !listed.has(value)) missing.push(`${relative(root, file)}: ${name}`);
      }
    }
    assert.deepEqual(missing, [], 'catalogs missing from errorCatalogs');
  });
});
