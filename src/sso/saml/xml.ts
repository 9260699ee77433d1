// The SAML XML Gatehouse reads itself, parsed with @xmldom/xmldom (node-saml's own parser):
// every document is refused before parsing if it carries a DTD (no entities, no external
// references), and parse errors are failures, never a partial tree. Only a few reads are
// needed: Destination and the signature algorithms of a Response, the Issuer and Recipient of
// the assertion node-saml validated, and the parts of IdP metadata.
import { createRequire } from 'node:module';

// xmldom's own typings pull the DOM library into the whole program; this is the little of it used.
export interface XmlElement {
  readonly nodeType: number;
  readonly localName: string | null;
  readonly namespaceURI: string | null;
  readonly textContent: string | null;
  readonly childNodes: { readonly length: number; readonly [index: number]: XmlElement };
  getAttribute(name: string): string | null;
}
interface XmlDocument {
  readonly documentElement: XmlElement | null;
}
interface DomParserOptions {
  errorHandler: { warning: (m: string) => void; error: (m: string) => void; fatalError: (m: string) => void };
}
const { DOMParser } = createRequire(import.meta.url)('@xmldom/xmldom') as {
  DOMParser: new (options: DomParserOptions) => { parseFromString(xml: string, mime: string): XmlDocument };
};

export const NS = {
  protocol: 'urn:oasis:names:tc:SAML:2.0:protocol',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  dsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

export class XmlRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'XmlRefused';
  }
}

/** Parses XML that must not carry a DTD; throws XmlRefused for a DTD or any parse error. */
export function parseXml(xml: string): XmlElement {
  // A DOCTYPE is where entities (XXE, billion laughs) live; SAML never needs one.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw new XmlRefused('a DTD is not allowed');
  const fail = (message: string) => {
    throw new XmlRefused(`not well-formed XML: ${message.slice(0, 200)}`);
  };
  const document = new DOMParser({
    errorHandler: { warning: () => {}, error: fail, fatalError: fail },
  }).parseFromString(xml, 'text/xml');
  if (!document.documentElement) throw new XmlRefused('no root element');
  return document.documentElement;
}

export function childElements(element: XmlElement, namespace: string, localName: string): XmlElement[] {
  const found: XmlElement[] = [];
  for (let i = 0; i < element.childNodes.length; i++) {
    const child = element.childNodes[i]!;
    if (child.nodeType === 1 && child.localName === localName && child.namespaceURI === namespace)
      found.push(child);
  }
  return found;
}

export function descendants(element: XmlElement, namespace: string, localName: string): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (node: XmlElement) => {
    for (let i = 0; i < node.childNodes.length; i++) {
      const child = node.childNodes[i]!;
      if (child.nodeType !== 1) continue;
      if (child.localName === localName && child.namespaceURI === namespace) found.push(child);
      visit(child);
    }
  };
  visit(element);
  return found;
}

export function isElement(element: XmlElement, namespace: string, localName: string): boolean {
  return element.localName === localName && element.namespaceURI === namespace;
}
