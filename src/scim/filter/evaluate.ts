// A PATCH value filter (`emails[type eq "work"]`) evaluated against the elements of one
// resource's multi-valued attribute, in memory: the resource is already loaded, and the
// filter is about its elements' sub-attributes (RFC 7644 §3.5.2). Comparison rules as in
// the SQL compiler: case-insensitive unless the sub-attribute is caseExact.
import type { CompareOp, FilterAttribute, FilterNode } from './parse.ts';

type Element = Readonly<Record<string, unknown>>;

function elementValue(element: Element, path: FilterAttribute): unknown {
  const name = path.sub?.name ?? 'value';
  // Stored elements use RFC 7643's spelling; clients' elements may not.
  if (name in element) return element[name];
  const key = Object.keys(element).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : element[key];
}

function compare(
  actual: unknown,
  op: CompareOp,
  expected: string | boolean | number,
  caseExact: boolean,
): boolean {
  if (actual === undefined || actual === null) return op === 'ne';
  if (typeof expected === 'boolean') {
    const is = actual === expected;
    return op === 'eq' ? is : op === 'ne' ? !is : false;
  }
  const fold = (v: string) => (caseExact ? v : v.toLowerCase());
  const a = typeof expected === 'number' ? Date.parse(String(actual)) : fold(String(actual));
  const e = typeof expected === 'number' ? expected : fold(expected);
  switch (op) {
    case 'eq':
      return a === e;
    case 'ne':
      return a !== e;
    case 'co':
      return String(a).includes(String(e));
    case 'sw':
      return String(a).startsWith(String(e));
    case 'ew':
      return String(a).endsWith(String(e));
    case 'gt':
      return a > e;
    case 'ge':
      return a >= e;
    case 'lt':
      return a < e;
    case 'le':
      return a <= e;
  }
}

export function matchesElement(node: FilterNode, element: Element): boolean {
  switch (node.kind) {
    case 'and':
      return node.nodes.every((n) => matchesElement(n, element));
    case 'or':
      return node.nodes.some((n) => matchesElement(n, element));
    case 'not':
      return !matchesElement(node.node, element);
    case 'present': {
      const value = elementValue(element, node.path);
      return value !== undefined && value !== null && value !== '';
    }
    case 'compare':
      return compare(
        elementValue(element, node.path),
        node.op,
        node.value,
        (node.path.sub ?? node.path.attribute).caseExact,
      );
    case 'any':
      // Value paths do not nest (parse.ts refuses it).
      return false;
  }
}

/**
 * The sub-attribute values a filter pins down (`type eq "work"`, and-ed `eq`s), from which a
 * filtered `add` or `replace` that matched nothing makes the element (what Entra ID expects
 * of `emails[type eq "work"].value` on a user without a work email). Undefined when the
 * filter is anything else: no element can be made from it.
 */
export function elementPinnedBy(node: FilterNode): Record<string, string | boolean> | undefined {
  if (node.kind === 'compare' && node.op === 'eq' && node.path.sub && typeof node.value !== 'number')
    return { [node.path.sub.name]: node.value };
  if (node.kind !== 'and') return undefined;
  const out: Record<string, string | boolean> = {};
  for (const part of node.nodes) {
    const pinned = elementPinnedBy(part);
    if (pinned === undefined) return undefined;
    Object.assign(out, pinned);
  }
  return out;
}
