// `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which attributes of a
// resource a response carries. Names resolve as filters' do (case-insensitive, optionally
// URN-prefixed, `name.sub` for one sub-attribute). `id` and `schemas` are always returned
// (RFC 7643 §7 returned "always"); names the resource does not have are ignored, as the
// RFC lets a service provider do for attributes it does not return.
import { type ResourceAttributes, resolveAttribute } from './attributes.ts';
import type { ScimObject } from './patch/values.ts';

export interface Projection {
  readonly attributes?: string;
  readonly excludedAttributes?: string;
}

interface Picked {
  readonly schema: string;
  readonly name: string;
  readonly sub?: string;
}

function pickedNames(list: string, resource: ResourceAttributes): Picked[] {
  const out: Picked[] = [];
  for (const raw of list.split(',')) {
    const resolved = resolveAttribute(resource, raw.trim());
    if (resolved === undefined) continue;
    out.push({ schema: resolved.attribute.schema, name: resolved.attribute.name, sub: resolved.sub?.name });
  }
  return out;
}

const ALWAYS = new Set(['id', 'schemas']);

function containerIn(
  document: ScimObject,
  resource: ResourceAttributes,
  schema: string,
): ScimObject | undefined {
  if (schema === resource.schemas[0]) return document;
  const value = document[schema];
  return value !== undefined && typeof value === 'object' && !Array.isArray(value)
    ? (value as ScimObject)
    : undefined;
}

function copyPicked(from: ScimObject, to: ScimObject, picked: Picked): void {
  const value = from[picked.name];
  if (value === undefined) return;
  if (picked.sub === undefined) {
    to[picked.name] = value;
    return;
  }
  const sub = picked.sub;
  if (Array.isArray(value)) {
    const existing = Array.isArray(to[picked.name]) ? (to[picked.name] as ScimObject[]) : undefined;
    to[picked.name] = (value as ScimObject[]).map((element, i) => ({
      ...(existing?.[i] ?? {}),
      ...(element[sub] !== undefined ? { [sub]: element[sub] } : {}),
    }));
  } else if (typeof value === 'object' && value[sub as keyof typeof value] !== undefined) {
    const existing = (to[picked.name] as ScimObject | undefined) ?? {};
    to[picked.name] = { ...existing, [sub]: (value as ScimObject)[sub] as ScimObject[string] };
  }
}

/** The document as the request asked for it; the input is not changed. */
export function project(
  document: ScimObject,
  resource: ResourceAttributes,
  projection: Projection,
): ScimObject {
  const core = resource.schemas[0] as string;
  if (projection.attributes !== undefined && projection.attributes.trim() !== '') {
    const out: ScimObject = {};
    for (const key of ALWAYS) if (document[key] !== undefined) out[key] = document[key];
    for (const picked of pickedNames(projection.attributes, resource)) {
      const from = containerIn(document, resource, picked.schema);
      if (from === undefined) continue;
      let to = out;
      if (picked.schema !== core) {
        to = (out[picked.schema] as ScimObject | undefined) ?? {};
        out[picked.schema] = to;
      }
      copyPicked(from, to, picked);
      if (picked.schema !== core && Object.keys(to).length === 0) delete out[picked.schema];
    }
    return out;
  }
  if (projection.excludedAttributes !== undefined && projection.excludedAttributes.trim() !== '') {
    const out = structuredClone(document);
    for (const picked of pickedNames(projection.excludedAttributes, resource)) {
      if (picked.schema === core && ALWAYS.has(picked.name)) continue;
      const container = containerIn(out, resource, picked.schema);
      if (container === undefined) continue;
      if (picked.sub === undefined) delete container[picked.name];
      else {
        const value = container[picked.name];
        const elements = Array.isArray(value)
          ? (value as ScimObject[])
          : value && typeof value === 'object'
            ? [value as ScimObject]
            : [];
        for (const element of elements) delete element[picked.sub];
      }
    }
    return out;
  }
  return document;
}
