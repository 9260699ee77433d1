// SCIM filters (RFC 7644 §3.4.2.2): the text parsed by scim2-parse-filter (no parser of our
// own), then checked and turned into Gatehouse's own tree, which the store compiles to SQL.
// Checked here: the size of the filter, every attribute against the resource's filterable
// ones (case-insensitive, URN prefixes allowed), each operator against the attribute's type,
// and each value against it. Anything else is `invalidFilter` naming what is wrong.
import { type Filter as LibraryFilter, parse as parseFilterText } from 'scim2-parse-filter';
import { GatehouseError } from '../../core/errors.ts';
import { type AttributeDefinition, type ResourceAttributes, resolveAttribute } from '../attributes.ts';
import { scimErrors } from '../errors.ts';

export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le';

/** The attribute a comparison is about: `attribute.sub`, or `attribute` alone. */
export interface FilterAttribute {
  readonly attribute: AttributeDefinition;
  readonly sub?: AttributeDefinition;
}

/**
 * A checked filter. `value` is a string, a boolean, or for dateTime attributes the instant in
 * epoch milliseconds. `any` is a value path (`emails[type eq "work" and value co "@x"]`): one
 * element of the multi-valued attribute must match all of `node`, whose attributes are its
 * sub-attributes.
 */
export type FilterNode =
  | {
      readonly kind: 'compare';
      readonly path: FilterAttribute;
      readonly op: CompareOp;
      readonly value: string | boolean | number;
    }
  | { readonly kind: 'present'; readonly path: FilterAttribute }
  | { readonly kind: 'and' | 'or'; readonly nodes: readonly FilterNode[] }
  | { readonly kind: 'not'; readonly node: FilterNode }
  | { readonly kind: 'any'; readonly attribute: AttributeDefinition; readonly node: FilterNode };

/** Longer filters, or deeper or larger trees, are refused before they reach the database. */
export const FILTER_LIMITS = { maxLength: 2048, maxDepth: 8, maxNodes: 64 } as const;

/** Where the filter came from: a query's `filter`, or a PATCH operation's `path`. */
type FilterField = 'filter' | 'path';

function invalid(message: string, field: FilterField = 'filter'): GatehouseError {
  return new GatehouseError(scimErrors.invalidFilter, { field, message });
}

const SUBSTRING: ReadonlySet<CompareOp> = new Set(['co', 'sw', 'ew']);

/** The comparison value, checked against the attribute's type (RFC 7644 §3.4.2.2's rules). */
function valueFor(
  definition: AttributeDefinition,
  op: CompareOp,
  value: unknown,
  path: string,
  field: FilterField,
): string | boolean | number {
  if (definition.type === 'boolean') {
    if (typeof value !== 'boolean' || (op !== 'eq' && op !== 'ne'))
      throw invalid(`${path} is a boolean: compare it with eq or ne and true or false`, field);
    return value;
  }
  if (typeof value !== 'string')
    throw invalid(`${path} takes a quoted string, not ${JSON.stringify(value)}`, field);
  if (definition.type === 'dateTime') {
    if (SUBSTRING.has(op)) throw invalid(`${path} is a dateTime: co, sw and ew do not apply`, field);
    const at = Date.parse(value);
    if (Number.isNaN(at))
      throw invalid(`${path} takes an xsd:dateTime such as "2026-01-31T12:00:00Z", not "${value}"`, field);
    return at;
  }
  return value;
}

interface Walk {
  readonly resource: ResourceAttributes;
  /** Set inside a value path: names are its sub-attributes. */
  readonly within?: AttributeDefinition;
  /** Shared by the whole walk, value paths included. */
  readonly seen: { nodes: number };
  /**
   * Whether only filterable (indexed) attributes may appear: a query's filter runs in SQL; a
   * PATCH path's value filter picks elements of one resource, any sub-attribute will do.
   */
  readonly indexedOnly: boolean;
  readonly field: FilterField;
}

function filterable(walk: Walk, path: string): FilterAttribute {
  if (walk.within !== undefined) {
    const sub = walk.within.subAttributes?.[path.toLowerCase()];
    if (sub === undefined) throw invalid(`${walk.within.name} has no sub-attribute "${path}"`, walk.field);
    if (walk.indexedOnly && !sub.filterable)
      throw invalid(`${walk.within.name}[${path} …] cannot be filtered on here`, walk.field);
    return { attribute: walk.within, sub };
  }
  const resolved = resolveAttribute(walk.resource, path);
  if (resolved === undefined)
    throw invalid(`${walk.resource.resourceType} has no attribute "${path}"`, walk.field);
  const leaf = resolved.sub ?? resolved.attribute;
  if (!leaf.filterable || leaf.type === 'complex')
    throw invalid(
      `"${path}" cannot be filtered on; filterable: ${filterableNames(walk.resource).join(', ')}`,
      walk.field,
    );
  return resolved;
}

function filterableNames(resource: ResourceAttributes): string[] {
  const names: string[] = [];
  for (const attributes of Object.values(resource.bySchema))
    for (const attribute of Object.values(attributes)) {
      if (attribute.filterable) names.push(attribute.name);
      for (const sub of Object.values(attribute.subAttributes ?? {}))
        if (sub.filterable) names.push(`${attribute.name}.${sub.name}`);
    }
  return names;
}

/** A comparison on `multi.sub` outside brackets means "some element's sub matches". */
function lifted(path: FilterAttribute, node: FilterNode): FilterNode {
  return path.attribute.multiValued && path.sub !== undefined
    ? { kind: 'any', attribute: path.attribute, node }
    : node;
}

function convert(filter: LibraryFilter, walk: Walk, depth: number): FilterNode {
  walk.seen.nodes += 1;
  if (depth > FILTER_LIMITS.maxDepth || walk.seen.nodes > FILTER_LIMITS.maxNodes)
    throw invalid(
      `the filter is too complex (at most ${FILTER_LIMITS.maxNodes} terms, nested ${FILTER_LIMITS.maxDepth} deep)`,
      walk.field,
    );
  switch (filter.op) {
    case 'and':
    case 'or':
      return { kind: filter.op, nodes: filter.filters.map((f) => convert(f, walk, depth + 1)) };
    case 'not':
      return { kind: 'not', node: convert(filter.filter, walk, depth + 1) };
    case '[]': {
      if (walk.within !== undefined) throw invalid('value paths cannot be nested', walk.field);
      const resolved = resolveAttribute(walk.resource, filter.attrPath);
      if (resolved === undefined)
        throw invalid(`${walk.resource.resourceType} has no attribute "${filter.attrPath}"`, walk.field);
      if (resolved.sub !== undefined || !resolved.attribute.multiValued)
        throw invalid(`"${filter.attrPath}[…]" needs a multi-valued attribute`, walk.field);
      const inner = convert(filter.valFilter, { ...walk, within: resolved.attribute }, depth + 1);
      return { kind: 'any', attribute: resolved.attribute, node: inner };
    }
    case 'pr': {
      const path = filterable(walk, filter.attrPath);
      return walk.within ? { kind: 'present', path } : lifted(path, { kind: 'present', path });
    }
    default: {
      const path = filterable(walk, filter.attrPath);
      const op = filter.op;
      const definition = path.sub ?? path.attribute;
      const value = valueFor(definition, op, filter.compValue, filter.attrPath, walk.field);
      const node: FilterNode = { kind: 'compare', path, op, value };
      return walk.within ? node : lifted(path, node);
    }
  }
}

/** The library's tree for the text, or invalidFilter with what it found wrong. */
function parseText(text: string, field: FilterField): LibraryFilter {
  if (text.length > FILTER_LIMITS.maxLength)
    throw invalid(`the filter is longer than ${FILTER_LIMITS.maxLength} characters`, field);
  if (text.trim() === '') throw invalid('the filter is empty', field);
  try {
    return parseFilterText(text);
  } catch (error) {
    throw new GatehouseError(scimErrors.invalidFilter, {
      field,
      message: `The filter is not valid SCIM filter syntax: ${(error as Error).message}.`,
      cause: error,
    });
  }
}

/** Parses and checks a `filter` query parameter for one resource type (RFC 7644 §3.4.2.2). */
export function parseScimFilter(text: string, resource: ResourceAttributes): FilterNode {
  const parsed = parseText(text, 'filter');
  return convert(parsed, { resource, seen: { nodes: 0 }, indexedOnly: true, field: 'filter' }, 0);
}

/**
 * The filter inside a PATCH value path (`emails[type eq "work"]`): about the sub-attributes
 * of `attribute`, any of them, evaluated against the elements of one resource.
 */
export function parseValueFilter(
  text: string,
  resource: ResourceAttributes,
  attribute: AttributeDefinition,
): FilterNode {
  const parsed = parseText(text, 'path');
  return convert(
    parsed,
    { resource, within: attribute, seen: { nodes: 0 }, indexedOnly: false, field: 'path' },
    1,
  );
}
