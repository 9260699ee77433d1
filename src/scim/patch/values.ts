// Values as IdPs send them, made into what RFC 7643 says each attribute holds: Entra ID's
// string booleans ("True", "False"), a manager sent as a bare id, a single element where a
// list belongs; sub-attribute names matched case-insensitively and stored as RFC 7643 spells
// them. Anything that cannot be read as the attribute's type is `invalidValue` naming it.
import { GatehouseError } from '../../core/errors.ts';
import type { AttributeDefinition } from '../attributes.ts';
import { scimErrors } from '../errors.ts';

export type ScimValue = string | boolean | ScimObject | ScimValue[];
export interface ScimObject {
  [key: string]: ScimValue;
}

export function invalidValue(where: string, why: string): GatehouseError {
  return new GatehouseError(scimErrors.invalidValue, { field: where, message: `${where}: ${why}.` });
}

function scalar(definition: AttributeDefinition, value: unknown, where: string): string | boolean {
  if (definition.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    // Entra ID sends booleans as strings, capitalised.
    if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    throw invalidValue(where, `${definition.name} is a boolean, not ${JSON.stringify(value)}`);
  }
  if (typeof value !== 'string')
    throw invalidValue(where, `${definition.name} takes a string, not ${JSON.stringify(value)}`);
  if (definition.type === 'dateTime' && Number.isNaN(Date.parse(value)))
    throw invalidValue(where, `${definition.name} takes an xsd:dateTime, not "${value}"`);
  return value;
}

function complex(definition: AttributeDefinition, value: unknown, where: string): ScimObject {
  // A reference sent bare (Entra's `manager`: "the-id") stands for its `value`.
  if (typeof value === 'string' && definition.subAttributes?.value !== undefined) return { value };
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidValue(where, `${definition.name} takes an object, not ${JSON.stringify(value)}`);
  const out: ScimObject = {};
  for (const [key, raw] of Object.entries(value)) {
    const sub = definition.subAttributes?.[key.toLowerCase()];
    if (sub === undefined) throw invalidValue(where, `${definition.name} has no sub-attribute "${key}"`);
    if (raw === null) continue;
    out[sub.name] = scalar(sub, raw, `${where}.${sub.name}`);
  }
  return out;
}

/** One element of a multi-valued attribute, or the value of a single-valued one. */
export function singleValue(definition: AttributeDefinition, value: unknown, where: string): ScimValue {
  return definition.type === 'complex' ? complex(definition, value, where) : scalar(definition, value, where);
}

/** The attribute's whole value: a list for multi-valued attributes (a lone element becomes one). */
export function attributeValue(definition: AttributeDefinition, value: unknown, where: string): ScimValue {
  if (!definition.multiValued) {
    // Some clients wrap a single value in a one-element list.
    const lone = Array.isArray(value) && value.length === 1 ? value[0] : value;
    return singleValue(definition, lone, where);
  }
  const list = Array.isArray(value) ? value : [value];
  return list.map((element, i) => singleValue(definition, element, `${where}[${i}]`));
}
