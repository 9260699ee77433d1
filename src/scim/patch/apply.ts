// SCIM PATCH (RFC 7644 §3.5.2) as Okta and Entra ID send it, applied to a resource document
// in memory: `add`, `replace`, `remove` in any case; with a path (attribute, sub-attribute,
// value filter, URN-prefixed extension attribute) or without one (an object of paths, dotted
// keys and extension objects included); a filtered add or replace that matches nothing makes
// the element its filter pins down. Group membership is not rewritten in the document but
// returned as a change (add these, remove those, or replace all), so a PATCH adding thousands
// of members never loads the existing ones.
import { GatehouseError } from '../../core/errors.ts';
import type { AttributeDefinition, ResourceAttributes } from '../attributes.ts';
import { scimErrors } from '../errors.ts';
import { elementPinnedBy, matchesElement } from '../filter/evaluate.ts';
import type { FilterNode } from '../filter/parse.ts';
import { type PatchPath, parsePatchPath } from './path.ts';
import { attributeValue, invalidValue, type ScimObject, type ScimValue, singleValue } from './values.ts';

export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** A request with more operations than this is refused before any is applied. */
export const MAX_PATCH_OPERATIONS = 1000;

/** What a PATCH does to a group's members: applied by the store in SQL, in this order. */
export interface MemberChanges {
  /** Set when the members were replaced (or all removed): the new list, before `add`. */
  replaceWith?: Set<string>;
  readonly add: Set<string>;
  readonly remove: Set<string>;
}

export interface PatchOutcome {
  readonly document: ScimObject;
  readonly members: MemberChanges;
}

type OpName = 'add' | 'replace' | 'remove';

/** Attributes the server owns that Okta repeats in a path-less replace: skipped there. */
const READ_ONLY = new Set(['id', 'meta']);

function syntax(message: string): GatehouseError {
  return new GatehouseError(scimErrors.invalidSyntax, { field: 'Operations', message });
}

function noTarget(message: string): GatehouseError {
  return new GatehouseError(scimErrors.noTarget, { field: 'path', message });
}

/** Where an attribute's value lives: the document itself, or its extension's object. */
function containerOf(
  document: ScimObject,
  attribute: AttributeDefinition,
  core: string,
  create: boolean,
): ScimObject | undefined {
  if (attribute.schema === core) return document;
  const existing = document[attribute.schema];
  if (existing !== undefined && typeof existing === 'object' && !Array.isArray(existing))
    return existing as ScimObject;
  if (!create) return undefined;
  const made: ScimObject = {};
  document[attribute.schema] = made;
  return made;
}

function elementsOf(container: ScimObject | undefined, attribute: AttributeDefinition): ScimObject[] {
  const value = container?.[attribute.name];
  return Array.isArray(value) ? (value as ScimObject[]) : [];
}

/** At most one element is primary (RFC 7643 §2.4): the last one set wins. */
function keepOnePrimary(elements: ScimObject[], chosen: readonly ScimObject[]): void {
  const primary = [...chosen].reverse().find((e) => e.primary === true);
  if (primary === undefined) return;
  for (const element of elements)
    if (element !== primary && element.primary === true) element.primary = false;
}

/** The `value`s a list of elements names: `[{ "value": id }, …]`, one such object, or bare values. */
function listedValues(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    const id = typeof item === 'string' ? item : (item as { value?: unknown } | null)?.value;
    if (typeof id !== 'string' || id === '')
      throw invalidValue(`${where}[${i}]`, 'each element is an object with a string "value"');
    return id;
  });
}

/** The ids a members value filter names (`value eq "…"`, or-ed): the only filter on members served. */
function idsInFilter(filter: FilterNode): string[] {
  if (
    filter.kind === 'compare' &&
    filter.op === 'eq' &&
    filter.path.sub?.name === 'value' &&
    typeof filter.value === 'string'
  )
    return [filter.value];
  if (filter.kind === 'or') return filter.nodes.flatMap(idsInFilter);
  throw new GatehouseError(scimErrors.invalidFilter, {
    field: 'path',
    message: 'members can be picked by value only: members[value eq "…"], or several joined with or.',
  });
}

function changeMembers(changes: MemberChanges, op: OpName, path: PatchPath, value: unknown): void {
  const apply = (id: string, present: boolean) => {
    if (present) {
      changes.remove.delete(id);
      if (changes.replaceWith) changes.replaceWith.add(id);
      else changes.add.add(id);
    } else {
      changes.add.delete(id);
      if (changes.replaceWith) changes.replaceWith.delete(id);
      else changes.remove.add(id);
    }
  };
  if (path.sub !== undefined) throw noTarget('members are added and removed whole, not by sub-attribute');
  if (path.filter !== undefined) {
    if (op !== 'remove') throw noTarget('a filtered members path can only be removed');
    for (const id of idsInFilter(path.filter)) apply(id, false);
    return;
  }
  if (op === 'replace' || (op === 'remove' && (value === undefined || value === null))) {
    changes.replaceWith = new Set(op === 'replace' ? listedValues(value ?? [], 'members') : []);
    changes.add.clear();
    changes.remove.clear();
    return;
  }
  // Entra ID removes members with {"op":"Remove","path":"members","value":[{"value":id}]}.
  for (const id of listedValues(value, 'members')) apply(id, op === 'add');
}

function applyFiltered(
  container: ScimObject,
  path: PatchPath & { filter: FilterNode },
  op: OpName,
  value: unknown,
): void {
  const { attribute, sub, filter } = path;
  const elements = elementsOf(container, attribute);
  const matching = elements.filter((element) => matchesElement(filter, element));
  if (op === 'remove') {
    if (sub === undefined) container[attribute.name] = elements.filter((e) => !matching.includes(e));
    else for (const element of matching) delete element[sub.name];
    return;
  }
  if (matching.length === 0) {
    const pinned = elementPinnedBy(filter);
    if (pinned === undefined)
      throw noTarget(`no ${attribute.name} element matches the filter, and it says too little to make one`);
    const made = singleValue(attribute, pinned, attribute.name) as ScimObject;
    elements.push(made);
    matching.push(made);
    container[attribute.name] = elements;
  }
  for (const element of matching) {
    if (sub !== undefined) element[sub.name] = singleValue(sub, value, `${attribute.name}.${sub.name}`);
    else {
      const given = singleValue(attribute, value, attribute.name) as ScimObject;
      if (op === 'replace') for (const key of Object.keys(element)) delete element[key];
      Object.assign(element, given);
    }
  }
  keepOnePrimary(elements, matching);
}

function applyToAttribute(container: ScimObject, path: PatchPath, op: OpName, value: unknown): void {
  const { attribute, sub } = path;
  if (sub !== undefined) {
    if (attribute.multiValued)
      throw new GatehouseError(scimErrors.invalidPath, {
        field: 'path',
        message: `pick the ${attribute.name} element with a filter: ${attribute.name}[type eq "work"].${sub.name}`,
      });
    const current = container[attribute.name];
    const object =
      current !== undefined && typeof current === 'object' && !Array.isArray(current)
        ? (current as ScimObject)
        : {};
    if (op === 'remove') delete object[sub.name];
    else object[sub.name] = singleValue(sub, value, `${attribute.name}.${sub.name}`);
    if (Object.keys(object).length > 0) container[attribute.name] = object;
    else delete container[attribute.name];
    return;
  }
  if (op === 'remove') {
    if (attribute.multiValued && value !== undefined && value !== null) {
      // Remove the elements whose value is listed, as Entra ID does for members.
      const listed = new Set(listedValues(value, attribute.name));
      container[attribute.name] = elementsOf(container, attribute).filter(
        (e) => !listed.has(String(e.value)),
      );
    } else delete container[attribute.name];
    return;
  }
  if (value === undefined) throw invalidValue(attribute.name, `${op} needs a value`);
  const given = attributeValue(attribute, value, attribute.name);
  if (attribute.multiValued && op === 'add') {
    const elements = elementsOf(container, attribute);
    const added = (given as ScimObject[]).filter(
      (g) => !elements.some((e) => e.value === g.value && e.type === g.type),
    );
    elements.push(...added);
    container[attribute.name] = elements;
    keepOnePrimary(elements, added);
  } else if (attribute.type === 'complex' && !attribute.multiValued && op === 'add') {
    const current = container[attribute.name];
    container[attribute.name] = {
      ...(typeof current === 'object' && !Array.isArray(current) ? current : {}),
      ...(given as ScimObject),
    };
  } else {
    container[attribute.name] = given;
    if (attribute.multiValued) keepOnePrimary(given as ScimObject[], given as ScimObject[]);
  }
}

function applyOperation(
  document: ScimObject,
  resource: ResourceAttributes,
  changes: MemberChanges,
  op: OpName,
  rawPath: string,
  value: unknown,
): void {
  const path = parsePatchPath(rawPath, resource);
  if (path.attribute.mutability === 'readOnly')
    throw new GatehouseError(scimErrors.mutability, {
      field: 'path',
      message: `${path.attribute.name} is set by Gatehouse and cannot be changed.`,
    });
  // Accepted and dropped: a password (Okta's password sync) is never kept (attributes.ts).
  if (path.attribute.mutability === 'writeOnly') return;
  if (resource.resourceType === 'Group' && path.attribute.name === 'members') {
    changeMembers(changes, op, path, value);
    return;
  }
  const core = resource.schemas[0] as string;
  const container = containerOf(document, path.attribute, core, op !== 'remove');
  if (container === undefined) return;
  if (path.filter !== undefined) applyFiltered(container, { ...path, filter: path.filter }, op, value);
  else applyToAttribute(container, path, op, value);
  if (container !== document && Object.keys(container).length === 0) delete document[path.attribute.schema];
}

/** A path-less add or replace: each key a path, or an extension's URN holding its attributes. */
function applyPathless(
  document: ScimObject,
  resource: ResourceAttributes,
  changes: MemberChanges,
  op: OpName,
  value: unknown,
): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidValue('value', `an ${op} without a path takes an object of attributes`);
  for (const [key, inner] of Object.entries(value)) {
    // Okta's path-less replace repeats the resource's id; what the server owns is ignored here,
    // as in a PUT (RFC 7644 §3.5.1), while a path naming it is refused.
    if (key === 'schemas' || READ_ONLY.has(key.toLowerCase())) continue;
    const extension = resource.schemas.find(
      (schema, i) => i > 0 && schema.toLowerCase() === key.toLowerCase(),
    );
    if (extension !== undefined && inner !== null && typeof inner === 'object' && !Array.isArray(inner)) {
      for (const [name, v] of Object.entries(inner))
        applyOperation(document, resource, changes, op, `${extension}:${name}`, v);
      continue;
    }
    applyOperation(document, resource, changes, op, key, inner);
  }
}

/**
 * Applies a PatchOp request body to a copy of `document` (a resource as stored: core
 * attributes at the top, each extension's under its URN). Throws a SCIM error, having
 * changed nothing the caller holds, when any operation is refused.
 */
export function applyPatch(document: ScimObject, body: unknown, resource: ResourceAttributes): PatchOutcome {
  const request = body as { schemas?: unknown; Operations?: unknown } | null;
  if (request === null || typeof request !== 'object') throw syntax('The body must be a PatchOp object.');
  if (!Array.isArray(request.schemas) || !request.schemas.includes(PATCH_OP_SCHEMA))
    throw syntax(`schemas must hold ${PATCH_OP_SCHEMA}.`);
  const operations = request.Operations;
  if (!Array.isArray(operations) || operations.length === 0)
    throw syntax('Operations must be a list of at least one operation.');
  if (operations.length > MAX_PATCH_OPERATIONS)
    throw syntax(`At most ${MAX_PATCH_OPERATIONS} operations per request.`);
  const copy = structuredClone(document);
  const changes: MemberChanges = { add: new Set(), remove: new Set() };
  for (const [i, raw] of operations.entries()) {
    const operation = raw as { op?: unknown; path?: unknown; value?: unknown } | null;
    const op = typeof operation?.op === 'string' ? operation.op.toLowerCase() : undefined;
    if (op !== 'add' && op !== 'replace' && op !== 'remove')
      throw syntax(
        `Operations[${i}].op must be add, replace or remove, not ${JSON.stringify(operation?.op)}.`,
      );
    const path = operation?.path;
    if (path !== undefined && typeof path !== 'string')
      throw syntax(`Operations[${i}].path must be a string.`);
    if (path === undefined || path === '') {
      if (op === 'remove') throw noTarget(`Operations[${i}]: remove needs a path.`);
      applyPathless(copy, resource, changes, op, operation?.value);
    } else applyOperation(copy, resource, changes, op, path, operation?.value);
  }
  return { document: copy, members: changes };
}

export type { ScimObject, ScimValue };
