// Holds the import rules of ARCHITECTURE.md ("Which way dependencies point"), which
// TypeScript itself does not: no cycles, core is a leaf, the layer table, enter-through-index,
// store-is-private, no-sql-in-routes, no-fastify-in-services. Run by `npm run lint`:
//   npx depcruise src --config .dependency-cruiser.cjs
// Type-only imports count (tsPreCompilationDeps): a type is a dependency like any other.
// Unit tests (`*.test.ts`) are exempt from the layering rules but not from cycles.

/** Unit tests beside the code. */
const TEST = '\\.test\\.ts$';
/** A capability's store: `store.ts` or `<noun>-store.ts`, anywhere under src/. */
const STORE = '^src/.+[/-]store\\.ts$';
/** A capability's route plugins: `routes.ts` or `<noun>-routes.ts`. */
const ROUTES = '[/-]routes\\.ts$';
/** Fastify and its plugins, as resolved into node_modules. */
const FASTIFY = '(^|/)node_modules/(fastify|@fastify/[^/]+|fastify-plugin)/';
/** Database drivers and the query builder: SQL lives in db/ and the stores. */
const SQL_LIBRARIES = '(^|/)node_modules/(kysely|pg|better-sqlite3)/';

/**
 * The layer table. A module may import its own folder and lower layers only; the same
 * layer is off limits too, except the pairs in `alsoMay` (ARCHITECTURE.md: "layers 0–3;
 * plus sso → sessions, oauth → sessions"). Layer 6 imports everything.
 */
const layers = [
  { name: 'core', level: 0, path: '^src/core/' },
  { name: 'config', level: 1, path: '^src/config\\.ts$' },
  { name: 'db', level: 1, path: '^src/db/' },
  { name: 'web', level: 1, path: '^src/web/' },
  { name: 'authz', level: 2, path: '^src/authz/' },
  { name: 'authn', level: 2, path: '^src/authn/' },
  { name: 'audit', level: 2, path: '^src/audit/' },
  { name: 'tenancy', level: 3, path: '^src/tenancy/' },
  { name: 'sessions', level: 4, path: '^src/sessions/' },
  { name: 'apikeys', level: 4, path: '^src/apikeys/' },
  { name: 'sso', level: 4, path: '^src/sso/', alsoMay: ['sessions'] },
  { name: 'oauth', level: 4, path: '^src/oauth/', alsoMay: ['sessions'] },
  { name: 'scim', level: 4, path: '^src/scim/' },
  { name: 'providers', level: 4, path: '^src/providers/' },
  { name: 'http', level: 5, path: '^src/http/' },
  { name: 'mcp', level: 5, path: '^src/mcp/' },
  { name: 'services', level: 6, path: '^src/services\\.ts$' },
  { name: 'app', level: 6, path: '^src/app\\.ts$' },
  { name: 'main', level: 6, path: '^src/main\\.ts$' },
  { name: 'logger', level: 6, path: '^src/logger\\.ts$' },
  { name: 'error-catalog', level: 6, path: '^src/error-catalog\\.ts$' },
  { name: 'cli', level: 6, path: '^src/cli/' },
];

const layerRules = layers
  // core is covered by core-is-a-leaf; layer 6 may import anything.
  .filter((layer) => layer.level > 0 && layer.level < 6)
  .map((layer) => {
    const allowed = new Set([layer.name, ...(layer.alsoMay ?? [])]);
    const higher = layers.filter((other) => other.level >= layer.level && !allowed.has(other.name));
    const exceptions = layer.alsoMay ? `, plus ${layer.alsoMay.join(', ')}` : '';
    return {
      name: `layer-${layer.name}`,
      comment: `${layer.name} is layer ${layer.level}: it may import only layers 0–${layer.level - 1}${exceptions}. Where it must reach up, define an interface and let services.ts wire it in.`,
      severity: 'error',
      from: { path: layer.path, pathNot: TEST },
      to: { path: higher.map((other) => other.path) },
    };
  });

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'TypeScript allows import cycles; we do not. Break the cycle with an interface or by moving the shared piece down a layer.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import must resolve, or the rules below cannot see where it points.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'core-is-a-leaf',
      comment: 'src/core imports nothing of ours: only Node built-ins and npm packages.',
      severity: 'error',
      from: { path: '^src/core/', pathNot: TEST },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'layer-unassigned',
      comment:
        'Every file under src/ belongs to a layer: add the new folder or file to ARCHITECTURE.md and to the layer table in .dependency-cruiser.cjs.',
      severity: 'error',
      from: { path: '^src/', pathNot: [TEST, ...layers.map((layer) => layer.path)] },
      to: {},
    },
    ...layerRules,
    {
      name: 'enter-through-index',
      comment:
        'Import another capability only through its index.ts (type-only imports too); core has no index and is imported module by module.',
      severity: 'error',
      // The group is the capability folder (or, for a top-level file, the file itself).
      from: { path: '^src/([^/]+)', pathNot: TEST },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', '^src/core/'] },
    },
    {
      name: 'store-is-private',
      comment:
        'A store (store.ts, *-store.ts) is imported only from its own capability folder: its service and tests.',
      severity: 'error',
      from: { path: '^src/([^/]+)' },
      to: { path: STORE, pathNot: '^src/$1/' },
    },
    {
      name: 'no-sql-in-routes',
      comment: 'Route files call services; they import neither src/db, nor a store, nor a SQL library.',
      severity: 'error',
      from: { path: ROUTES },
      to: { path: ['^src/db/', STORE, SQL_LIBRARIES] },
    },
    {
      name: 'no-fastify-in-services',
      comment:
        'Only src/http, app.ts and route files (routes.ts, *-routes.ts) may import Fastify; services and everything else stay framework-free.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/http/', '^src/app\\.ts$', ROUTES, TEST] },
      to: { path: FASTIFY },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    moduleSystems: ['es6', 'cjs'],
    // See type-only imports (`import type`, `export type *`): they are dependencies too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // tsx runs the `.ts` specifiers as written; resolve them the same way.
    enhancedResolveOptions: {
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      conditionNames: ['import', 'require', 'node', 'default'],
      exportsFields: ['exports'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
