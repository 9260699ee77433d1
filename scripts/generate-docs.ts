// Generates docs/configuration.md from the variables table in src/config.ts and
// docs/errors.md from the error catalogs in src/error-catalog.ts (ARCHITECTURE.md,
// conventions 3 and 4). The render functions are pure so test/docs/docs.test.ts can compare
// the committed files with what this renders; only running the script writes files.
// Run: npm run docs:generate
import { realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type VariableSpec, variables } from '../src/config.ts';
import { type ErrorCatalog, listCatalog } from '../src/core/errors.ts';
import { errorCatalogs } from '../src/error-catalog.ts';

const REGENERATE = 'npm run docs:generate';

/** A markdown table cell: one line, pipes escaped so they do not end the cell. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
}

export function renderConfigurationDoc(specs: readonly VariableSpec[] = variables): string {
  const lines = [
    '# Configuration',
    '',
    `<!-- Generated from the variables table in src/config.ts. Do not edit by hand: run \`${REGENERATE}\`. -->`,
    '',
    'Gatehouse reads its configuration from `GATEHOUSE_*` environment variables, once, at start-up.',
    'This page is generated from the table in `src/config.ts`; after changing that table, run',
    `\`${REGENERATE}\` (a test fails while this page is stale).`,
    '',
    'Variables marked secret hold credentials: keep them out of logs, shell history and process',
    "listings (prefer a file or your orchestrator's secret store). Per-organization settings are",
    'not environment variables; they are edited through `/v1`.',
    '',
    ...table(
      ['Variable', 'Default', 'Description', 'Secret'],
      specs.map((v) => [`\`${v.name}\``, v.defaultText, v.description, v.secret ? 'yes' : 'no']),
    ),
    '',
  ];
  return lines.join('\n');
}

const WIRE_FORMATS = [
  'Every error Gatehouse raises has a stable snake_case code, an HTTP status and a public',
  'message; the code never changes meaning, so clients may branch on it. Each surface renders',
  'an error in its own wire format:',
  '',
  '- **`/v1` (JSON API)**: the status below and a body',
  '  `{"error":{"code":"…","message":"…","field":"…","request_id":"…"}}`; `field` names the',
  '  input at fault and is present only when one is; `request_id` matches the `X-Request-Id`',
  '  response header and the server log.',
  '- **`/mcp` (MCP server)**: HTTP refusals (401, 403 insufficient_scope, 405, 413, 415, 429)',
  '  carry the `/v1` body, and 401 and 403 a `WWW-Authenticate: Bearer` challenge naming the',
  '  resource metadata; a tool that refuses answers a tool result with `isError: true` whose',
  '  content is the same `{"error":{…}}` body ([docs/mcp.md](mcp.md)).',
  '- **`/oauth` (authorization server)**: errors follow RFC 6749 §5.2 (`error`,',
  '  `error_description`, and on redirects `state` and `iss`) as the OAuth library emits them.',
  '- **`/scim/v2` (SCIM 2.0)**: the SCIM error schema of RFC 7644 §3.12,',
  '  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"…","scimType":"…","detail":"…"}`.',
  '- **Browser pages** (`/login`, `/setup`, …): an HTML page with the status, the message and',
  '  the request id.',
  '',
  'Private details are never sent to the caller; they go to the server log and the audit log',
  'under the same request id.',
];

export function renderErrorsDoc(catalogs: readonly ErrorCatalog<string>[] = errorCatalogs): string {
  const lines = [
    '# Errors',
    '',
    `<!-- Generated from the error catalogs listed in src/error-catalog.ts. Do not edit by hand: run \`${REGENERATE}\`. -->`,
    '',
    ...WIRE_FORMATS,
    '',
    `This page is generated from each capability's \`errors.ts\`; run \`${REGENERATE}\` after adding a code.`,
  ];
  for (const catalog of catalogs) {
    const { owner, definitions } = listCatalog(catalog);
    lines.push(
      '',
      `## ${owner}`,
      '',
      ...table(
        ['Code', 'HTTP status', 'Message'],
        definitions.map((d) => [`\`${d.code}\``, String(d.status), d.message]),
      ),
    );
  }
  lines.push('');
  return lines.join('\n');
}

/** The generated documents, by path relative to the repository root. */
export function renderDocs(): ReadonlyMap<string, string> {
  return new Map([
    ['docs/configuration.md', renderConfigurationDoc()],
    ['docs/errors.md', renderErrorsDoc()],
  ]);
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMainModule()) {
  const root = new URL('..', import.meta.url);
  for (const [path, content] of renderDocs()) {
    writeFileSync(new URL(path, root), content);
    process.stdout.write(`wrote ${path}\n`);
  }
}
