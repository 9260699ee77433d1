// The `path` of a SCIM PATCH operation (RFC 7644 §3.5.2): `attrPath` (`active`, `name.givenName`,
// `urn:…:enterprise:2.0:User:manager`) or `valuePath [ "." subAttr ]`
// (`members[value eq "…"]`, `emails[type eq "work"].value`), names case-insensitive. The
// value filter is the SCIM filter grammar, parsed by the same library as query filters.
import { GatehouseError } from '../../core/errors.ts';
import { type AttributeDefinition, type ResourceAttributes, resolveAttribute } from '../attributes.ts';
import { scimErrors } from '../errors.ts';
import { type FilterNode, parseValueFilter } from '../filter/parse.ts';

export interface PatchPath {
  /** The top-level attribute the operation changes. */
  readonly attribute: AttributeDefinition;
  /** `name.givenName`, or the `.value` after a value filter. */
  readonly sub?: AttributeDefinition;
  /** Which elements of a multi-valued attribute: the value filter, about its sub-attributes. */
  readonly filter?: FilterNode;
}

const MAX_PATH_LENGTH = 1024;

function invalid(path: string, why: string): GatehouseError {
  return new GatehouseError(scimErrors.invalidPath, { field: 'path', message: `The path "${path}" ${why}.` });
}

/** `prefix[filter]` and an optional `.sub` after the closing bracket. */
const VALUE_PATH = /^([^[\]]+)\[(.+)\](?:\.([A-Za-z$][\w$-]*))?$/s;

export function parsePatchPath(path: string, resource: ResourceAttributes): PatchPath {
  if (path.length > MAX_PATH_LENGTH)
    throw invalid(path.slice(0, 40), `is longer than ${MAX_PATH_LENGTH} characters`);
  const trimmed = path.trim();
  if (trimmed === '') throw invalid(path, 'is empty');
  const valuePath = VALUE_PATH.exec(trimmed);
  if (valuePath === null) {
    if (/[[\]]/.test(trimmed)) throw invalid(path, 'has unbalanced brackets');
    const resolved = resolveAttribute(resource, trimmed);
    if (resolved === undefined) throw invalid(path, `names no attribute of a ${resource.resourceType}`);
    return resolved.sub === undefined
      ? { attribute: resolved.attribute }
      : { attribute: resolved.attribute, sub: resolved.sub };
  }
  const [, prefix = '', filterText = '', subName] = valuePath;
  const resolved = resolveAttribute(resource, prefix.trim());
  if (resolved === undefined || resolved.sub !== undefined)
    throw invalid(path, `names no attribute of a ${resource.resourceType} before its "["`);
  if (!resolved.attribute.multiValued)
    throw invalid(path, `filters ${resolved.attribute.name}, which holds one value`);
  const filter = parseValueFilter(filterText, resource, resolved.attribute);
  if (subName === undefined) return { attribute: resolved.attribute, filter };
  const sub = resolved.attribute.subAttributes?.[subName.toLowerCase()];
  if (sub === undefined)
    throw invalid(path, `names no sub-attribute "${subName}" of ${resolved.attribute.name}`);
  return { attribute: resolved.attribute, sub, filter };
}
