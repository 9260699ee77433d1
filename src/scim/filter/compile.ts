// A checked SCIM filter (parse.ts) as one SQL condition, so filters run in the database and
// never by loading users (SPEC §5). The store says where each filterable attribute lives
// (ColumnMap); values are always parameters. Written once for both databases with what both
// have the same: `=`, `<`, `substr`, `length`, `replace`, `exists`. Case-insensitive
// attributes are compared on columns the store keeps lower-cased, against the lower-cased
// value; case-exact ones (`id`, `externalId`, `members.value`) as they are.
import { type RawBuilder, type SqlBool, sql } from 'kysely';
import type { CompareOp, FilterAttribute, FilterNode } from './parse.ts';

export interface ScalarColumn {
  /** A qualified column reference, e.g. `u.user_name_normalized`. */
  readonly column: string;
  /** text; boolean (0/1); instant (epoch ms, for dateTime attributes). */
  readonly kind: 'text' | 'boolean' | 'instant';
  /** The column holds the value lower-cased (for attributes that are not caseExact). */
  readonly normalized?: boolean;
}

export interface MultiValuedTable {
  /** The table holding one row per element, e.g. `scim_user_emails`. */
  readonly table: string;
  /** The alias its columns are qualified with in `subs`. */
  readonly alias: string;
  /** Its column naming the resource, compared with the map's `resourceKey`. */
  readonly parentKey: string;
  /** Keyed by sub-attribute name as RFC 7643 spells it (`value`). */
  readonly subs: Readonly<Record<string, ScalarColumn>>;
  /** Its column naming the org, compared with the map's `scopeKey`, when the resource key is unique per org only. */
  readonly scopeKey?: string;
}

export interface ColumnMap {
  /** The resource's own id column, e.g. `u.user_id`. */
  readonly resourceKey: string;
  /** The org column, e.g. `u.org_id`, when `resourceKey` is unique only within an org. */
  readonly scopeKey?: string;
  /** Keyed by path as RFC 7643 spells it: `userName`, `meta.lastModified`. */
  readonly scalars: Readonly<Record<string, ScalarColumn>>;
  /** Keyed by attribute name: `emails`, `members`. */
  readonly multiValued: Readonly<Record<string, MultiValuedTable>>;
}

const COMPARISON: Readonly<Record<'eq' | 'gt' | 'ge' | 'lt' | 'le', string>> = {
  eq: '=',
  gt: '>',
  ge: '>=',
  lt: '<',
  le: '<=',
};

function columnFor(
  map: ColumnMap,
  path: FilterAttribute,
  within: MultiValuedTable | undefined,
): ScalarColumn {
  const found =
    within !== undefined
      ? within.subs[path.sub?.name ?? '']
      : map.scalars[path.sub ? `${path.attribute.name}.${path.sub.name}` : path.attribute.name];
  // The attribute catalogue and the store's map must agree; a gap is a bug here, not bad input.
  if (found === undefined)
    throw new Error(
      `no column for the filterable attribute ${path.attribute.name}${path.sub ? `.${path.sub.name}` : ''}`,
    );
  return found;
}

/** Code points, as SQL's length() and substr() count them (JavaScript's length counts UTF-16 units). */
function characters(value: string): number {
  return [...value].length;
}

function comparison(
  target: ScalarColumn,
  op: CompareOp,
  raw: string | boolean | number,
): RawBuilder<SqlBool> {
  const column = sql.ref(target.column);
  let value: string | number;
  if (target.kind === 'boolean') value = raw ? 1 : 0;
  else if (typeof raw === 'string' && target.normalized) value = raw.toLowerCase();
  else value = raw as string | number;
  switch (op) {
    case 'ne':
      // An absent value is not equal to anything (RFC 7644 §3.4.2.2).
      return sql<SqlBool>`(${column} is null or ${column} <> ${value})`;
    case 'co': {
      const text = String(value);
      if (text === '') return sql<SqlBool>`${column} is not null`;
      // replace() is case-sensitive on both databases, unlike SQLite's LIKE.
      return sql<SqlBool>`replace(${column}, ${text}, '') <> ${column}`;
    }
    case 'sw': {
      const text = String(value);
      return sql<SqlBool>`substr(${column}, 1, ${characters(text)}) = ${text}`;
    }
    case 'ew': {
      const text = String(value);
      const n = characters(text);
      // Guarded so the start is never below 1, where the two databases' substr() differ.
      return sql<SqlBool>`(length(${column}) >= ${n} and substr(${column}, length(${column}) - ${n - 1}) = ${text})`;
    }
    default:
      return sql<SqlBool>`${column} ${sql.raw(COMPARISON[op])} ${value}`;
  }
}

function presence(target: ScalarColumn): RawBuilder<SqlBool> {
  const column = sql.ref(target.column);
  return target.kind === 'text'
    ? sql<SqlBool>`(${column} is not null and ${column} <> '')`
    : sql<SqlBool>`${column} is not null`;
}

function compile(
  node: FilterNode,
  map: ColumnMap,
  within: MultiValuedTable | undefined,
): RawBuilder<SqlBool> {
  switch (node.kind) {
    case 'and':
    case 'or': {
      const parts = node.nodes.map((n) => compile(n, map, within));
      return sql<SqlBool>`(${sql.join(parts, sql.raw(` ${node.kind} `))})`;
    }
    case 'not':
      return sql<SqlBool>`not ${compile(node.node, map, within)}`;
    case 'present':
      return presence(columnFor(map, node.path, within));
    case 'compare':
      return comparison(columnFor(map, node.path, within), node.op, node.value);
    case 'any': {
      const table = map.multiValued[node.attribute.name];
      if (table === undefined)
        throw new Error(`no table for the multi-valued attribute ${node.attribute.name}`);
      const inner = compile(node.node, map, table);
      const scoped =
        table.scopeKey !== undefined && map.scopeKey !== undefined
          ? sql`${sql.ref(`${table.alias}.${table.scopeKey}`)} = ${sql.ref(map.scopeKey)} and `
          : sql``;
      return sql<SqlBool>`exists (select 1 from ${sql.table(table.table)} as ${sql.raw(table.alias)} where ${scoped}${sql.ref(`${table.alias}.${table.parentKey}`)} = ${sql.ref(map.resourceKey)} and ${inner})`;
    }
  }
}

/** The filter as a condition for the resource query's WHERE, parameters bound. */
export function compileFilter(node: FilterNode, map: ColumnMap): RawBuilder<SqlBool> {
  return compile(node, map, undefined);
}
