// A SAML 2.0 identity provider for integration and attack tests: it publishes metadata over
// http://127.0.0.1, answers an SP's HTTP-Redirect AuthnRequest with a really signed Response
// (xml-crypto), and forges the classic attacks (foreign key, XML Signature Wrapping, raw edits).
import { generateKeyPair, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import forge from 'node-forge';
import { SignedXml } from 'xml-crypto';

export interface SamlIdpUser {
  nameId: string; // usually the email
  email: string;
  name?: string;
  groups?: string[]; // emitted as a multi-valued attribute named by groupsAttribute
  attributes?: Record<string, string | string[]>;
}

export interface SamlResponseOptions {
  user?: SamlIdpUser; // default: the user named by the AuthnRequest's Subject/NameID if any, else the first user
  groupsAttribute?: string; // default: the IdP's groupsAttribute, else 'groups'
  emailAttribute?: string; // default 'email'
  signAssertion?: boolean; // default true (forced true by XSW3–XSW8, which wrap the assertion's signature)
  signResponse?: boolean; // default false (forced true by XSW1/XSW2, which wrap the response's signature)
  signatureAlgorithm?: 'rsa-sha256' | 'rsa-sha1'; // default rsa-sha256
  digestAlgorithm?: 'sha256' | 'sha1'; // default sha256
  signWith?: 'idp' | 'attacker'; // 'attacker': a key+cert not in the IdP metadata
  issuer?: string; // default: entityId
  audience?: string; // default: the AuthnRequest's Issuer (SP entity id)
  recipient?: string; // SubjectConfirmationData/@Recipient; default: ACS URL
  destination?: string; // Response/@Destination; default: ACS URL
  inResponseTo?: string | null; // default: the AuthnRequest ID; null = omit (unsolicited)
  notBefore?: Date; // Conditions/@NotBefore; default now − 1 min
  notOnOrAfter?: Date; // Conditions/@NotOnOrAfter and SubjectConfirmationData/@NotOnOrAfter; default now + 5 min
  assertionId?: string; // default random `_…`
  sessionIndex?: string; // default random `_…`
  /** Applied to the final XML string after signing, before base64 (for DTD / entity injection, comment injection, etc.). */
  mutateXml?: (xml: string) => string;
  /** Produce one of the classic XML Signature Wrapping variants of an honest signed response for an evil user (see wrapSignature). */
  wrap?: 'XSW1' | 'XSW2' | 'XSW3' | 'XSW4' | 'XSW5' | 'XSW6' | 'XSW7' | 'XSW8';
  evilUser?: SamlIdpUser; // the identity smuggled in by `wrap` (required with it)
}

export interface SamlPost {
  acsUrl: string;
  form: { SAMLResponse: string; RelayState?: string }; // SAMLResponse base64 as an HTTP-POST binding would carry it
  xml: string; // the decoded XML, for debugging
  authnRequestId: string | undefined;
}

export interface TestSamlIdp {
  readonly entityId: string; // `${origin}/saml/metadata`
  readonly ssoUrl: string; // `${origin}/saml/sso` (HTTP-Redirect binding)
  readonly metadataUrl: string; // served over HTTP by this helper (same URL as entityId)
  metadataXml(): string; // EntityDescriptor > IDPSSODescriptor, a signing KeyDescriptor per published cert, HTTP-Redirect SSO
  readonly certificatePem: string; // current signing cert
  /** A new key+cert becomes the signing one; with keepOld the metadata lists both (rotation overlap), else only the new. */
  rotateCertificate(options?: { keepOld?: boolean }): Promise<void>;
  setUser(user: SamlIdpUser): void; // add or replace by email
  /**
   * Plays the IdP for the browser: takes the HTTP-Redirect URL the SP sent the browser to
   * (ssoUrl?SAMLRequest=…&RelayState=…[&SigAlg&Signature]), inflates and parses the
   * AuthnRequest (ID, AssertionConsumerServiceURL, Issuer), and returns the POST the browser
   * would make to the ACS, with RelayState echoed. A redirect signature is not checked: this
   * IdP has no SP metadata to check it against.
   */
  respond(redirectUrl: string, options?: SamlResponseOptions): Promise<SamlPost>;
  /** An IdP-initiated (unsolicited) response: no InResponseTo, for a given ACS and audience. */
  unsolicited(
    input: { acsUrl: string; audience: string; relayState?: string } & SamlResponseOptions,
  ): Promise<SamlPost>;
  close(): Promise<void>;
}

const NS = {
  samlp: 'urn:oasis:names:tc:SAML:2.0:protocol',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  md: 'urn:oasis:names:tc:SAML:2.0:metadata',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xs: 'http://www.w3.org/2001/XMLSchema',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
} as const;

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SIGNATURE_ALGORITHMS = {
  'rsa-sha256': 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'rsa-sha1': 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
} as const;
const DIGEST_ALGORITHMS = {
  sha256: 'http://www.w3.org/2001/04/xmlenc#sha256',
  sha1: 'http://www.w3.org/2000/09/xmldsig#sha1',
} as const;
const EMAIL_NAME_ID = 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress';
const ENTITY_NAME_ID = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';
const DAY_MS = 24 * 60 * 60 * 1000;

type XswVariant = NonNullable<SamlResponseOptions['wrap']>;

// @xmldom/xmldom's declarations pull `lib.dom` into the whole program (a `/// <reference lib>`),
// which this project does not compile with; it is loaded through require and narrowed to the
// small DOM surface used here instead.
interface XmlNode {
  readonly nodeType: number;
  readonly parentNode: XmlNode | null;
  readonly firstChild: XmlNode | null;
  readonly nextSibling: XmlNode | null;
  readonly textContent: string | null;
  cloneNode(deep: boolean): this;
  appendChild<T extends XmlNode>(child: T): T;
  insertBefore<T extends XmlNode>(child: T, before: XmlNode | null): T;
  removeChild<T extends XmlNode>(child: T): T;
  replaceChild<T extends XmlNode>(child: T, old: XmlNode): XmlNode;
}
interface XmlElement extends XmlNode {
  readonly localName: string;
  readonly namespaceURI: string | null;
  getAttribute(name: string): string | null; // xmldom answers '' for an absent attribute
  setAttribute(name: string, value: string): void;
}
interface XmlDocument extends XmlNode {
  readonly documentElement: XmlElement | null;
  createElementNS(namespace: string, qualifiedName: string): XmlElement;
  importNode<T extends XmlNode>(node: T, deep: boolean): T;
}
interface Xmldom {
  DOMParser: new (options: {
    errorHandler: {
      warning?: (message: string) => void;
      error: (message: string) => void;
      fatalError: (message: string) => void;
    };
  }) => { parseFromString(source: string, mimeType: string): XmlDocument };
  XMLSerializer: new () => { serializeToString(node: XmlNode): string };
}
const xmldom = createRequire(import.meta.url)('@xmldom/xmldom') as Xmldom;

interface SigningKey {
  privateKeyPem: string;
  certificatePem: string;
}

const generateRsaKeyPair = promisify(generateKeyPair);

/** RSA 2048 and a self-signed certificate for it, valid from a day ago (clock skew) for `validDays`. */
async function createSigningKey(commonName: string, validDays: number): Promise<SigningKey> {
  // node:crypto generates the key natively; forge's pure-JS RSA generation takes seconds.
  const { publicKey, privateKey } = await generateRsaKeyPair('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // forge writes the hex serial as given: a leading 0x01 keeps it positive and non-zero.
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const now = Date.now();
  cert.validity.notBefore = new Date(now - DAY_MS);
  cert.validity.notAfter = new Date(now + validDays * DAY_MS);
  const name = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'Gatehouse tests' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  // No keyUsage: one without keyCertSign makes OpenSSL deny that a self-signed cert issued itself.
  cert.setExtensions([{ name: 'basicConstraints', cA: false }]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  // forge ends PEM lines with CRLF; tests compare and embed these, so use plain LF.
  return {
    privateKeyPem: privateKey,
    certificatePem: forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n'),
  };
}

/** The base64 body of a PEM certificate, as X509Certificate elements carry it. */
function certificateBase64(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
}

function randomId(): string {
  // xs:ID must not start with a digit, hence the underscore.
  return '_' + randomBytes(20).toString('hex');
}

function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function parseXml(xml: string): XmlDocument {
  const errors: string[] = [];
  const parser = new xmldom.DOMParser({
    errorHandler: { error: (message) => errors.push(message), fatalError: (message) => errors.push(message) },
  });
  const doc = parser.parseFromString(xml, 'text/xml');
  if (errors.length > 0 || !doc.documentElement) throw new Error(`invalid XML: ${errors.join('; ')}`);
  return doc;
}

function isElement(node: XmlNode): node is XmlElement {
  return node.nodeType === 1;
}

/** The first child element with that namespace and local name, if any (children only, never deeper). */
function findChild(parent: XmlNode, namespace: string, localName: string): XmlElement | undefined {
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (isElement(node) && node.namespaceURI === namespace && node.localName === localName) return node;
  }
  return undefined;
}

function getChild(parent: XmlNode, namespace: string, localName: string): XmlElement {
  const found = findChild(parent, namespace, localName);
  if (!found) throw new Error(`no ${localName} child element`);
  return found;
}

function insertAfter(parent: XmlNode, node: XmlNode, reference: XmlNode): void {
  parent.insertBefore(node, reference.nextSibling);
}

interface AuthnRequestInfo {
  id: string | undefined;
  acsUrl: string | undefined;
  issuer: string | undefined;
  nameId: string | undefined; // Subject/NameID: the SP asking for a particular user
}

function parseAuthnRequest(encoded: string): AuthnRequestInfo {
  const raw = Buffer.from(encoded, 'base64');
  let xml: string;
  try {
    xml = inflateRawSync(raw).toString('utf8');
  } catch {
    // The binding requires DEFLATE, but node-saml's skipRequestCompression sends it raw.
    xml = raw.toString('utf8');
  }
  const root = parseXml(xml).documentElement;
  if (!root || root.namespaceURI !== NS.samlp || root.localName !== 'AuthnRequest')
    throw new Error(`SAMLRequest is not a samlp:AuthnRequest: ${xml.slice(0, 200)}`);
  const subject = findChild(root, NS.saml, 'Subject');
  return {
    id: root.getAttribute('ID') || undefined,
    acsUrl: root.getAttribute('AssertionConsumerServiceURL') || undefined,
    issuer: findChild(root, NS.saml, 'Issuer')?.textContent?.trim() || undefined,
    nameId: (subject && findChild(subject, NS.saml, 'NameID')?.textContent?.trim()) || undefined,
  };
}

/** Everything a response is built from, defaults applied. */
interface ResponseSettings {
  now: Date;
  issuer: string;
  audience: string;
  recipient: string;
  destination: string;
  inResponseTo: string | undefined;
  notBefore: Date;
  notOnOrAfter: Date;
  groupsAttribute: string;
  emailAttribute: string;
  sessionIndex: string;
}

function attributeXml(name: string, values: string[]): string {
  const valuesXml = values
    .map((value) => `<saml:AttributeValue xsi:type="xs:string">${escapeXml(value)}</saml:AttributeValue>`)
    .join('');
  return (
    `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic">` +
    `${valuesXml}</saml:Attribute>`
  );
}

/**
 * An unsigned assertion. It declares its own namespaces so it stays well-formed wherever an XSW
 * variant moves it, and it is written without whitespace between elements so what is signed is
 * exactly what is sent.
 */
function assertionXml(user: SamlIdpUser, id: string, s: ResponseSettings): string {
  const attributes = new Map<string, string[]>();
  attributes.set(s.emailAttribute, [user.email]);
  if (user.name !== undefined) attributes.set('name', [user.name]);
  // No groups and an empty list come out the same (no attribute): SPs read both as "no groups".
  if (user.groups && user.groups.length > 0) attributes.set(s.groupsAttribute, user.groups);
  for (const [name, value] of Object.entries(user.attributes ?? {}))
    attributes.set(name, Array.isArray(value) ? value : [value]);
  const inResponseTo = s.inResponseTo === undefined ? '' : ` InResponseTo="${escapeXml(s.inResponseTo)}"`;
  const instant = s.now.toISOString();
  return (
    `<saml:Assertion xmlns:saml="${NS.saml}" xmlns:xs="${NS.xs}" xmlns:xsi="${NS.xsi}" ID="${escapeXml(id)}" ` +
    `Version="2.0" IssueInstant="${instant}">` +
    `<saml:Issuer Format="${ENTITY_NAME_ID}">${escapeXml(s.issuer)}</saml:Issuer>` +
    '<saml:Subject>' +
    `<saml:NameID Format="${EMAIL_NAME_ID}">${escapeXml(user.nameId)}</saml:NameID>` +
    '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
    `<saml:SubjectConfirmationData NotOnOrAfter="${s.notOnOrAfter.toISOString()}" ` +
    `Recipient="${escapeXml(s.recipient)}"${inResponseTo}/>` +
    '</saml:SubjectConfirmation>' +
    '</saml:Subject>' +
    `<saml:Conditions NotBefore="${s.notBefore.toISOString()}" NotOnOrAfter="${s.notOnOrAfter.toISOString()}">` +
    `<saml:AudienceRestriction><saml:Audience>${escapeXml(s.audience)}</saml:Audience></saml:AudienceRestriction>` +
    '</saml:Conditions>' +
    `<saml:AuthnStatement AuthnInstant="${instant}" SessionIndex="${escapeXml(s.sessionIndex)}">` +
    '<saml:AuthnContext>' +
    '<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>' +
    '</saml:AuthnContext>' +
    '</saml:AuthnStatement>' +
    '<saml:AttributeStatement>' +
    [...attributes].map(([name, values]) => attributeXml(name, values)).join('') +
    '</saml:AttributeStatement>' +
    '</saml:Assertion>'
  );
}

function responseXml(id: string, assertion: string, s: ResponseSettings): string {
  const inResponseTo = s.inResponseTo === undefined ? '' : ` InResponseTo="${escapeXml(s.inResponseTo)}"`;
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<samlp:Response xmlns:samlp="${NS.samlp}" xmlns:saml="${NS.saml}" ID="${escapeXml(id)}" Version="2.0" ` +
    `IssueInstant="${s.now.toISOString()}" Destination="${escapeXml(s.destination)}"${inResponseTo}>` +
    `<saml:Issuer Format="${ENTITY_NAME_ID}">${escapeXml(s.issuer)}</saml:Issuer>` +
    '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
    assertion +
    '</samlp:Response>'
  );
}

/** An XPath string literal for any value: attack tests may put quotes in an assertion ID. */
function xpathLiteral(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  return `concat('${value.split("'").join(`', "'", '`)}')`;
}

/**
 * An enveloped, exclusive-c14n signature over the element with ID `targetId`, placed right after
 * that element's Issuer (the schema puts ds:Signature there in both Response and Assertion).
 */
function signElement(
  xml: string,
  targetId: string,
  key: SigningKey,
  algorithms: { signature: keyof typeof SIGNATURE_ALGORITHMS; digest: keyof typeof DIGEST_ALGORITHMS },
): string {
  const signed = new SignedXml({
    privateKey: key.privateKeyPem,
    publicCert: key.certificatePem,
    signatureAlgorithm: SIGNATURE_ALGORITHMS[algorithms.signature],
    canonicalizationAlgorithm: EXC_C14N,
    // KeyInfo/X509Data/X509Certificate, as real IdPs send it (SPs must ignore it and use metadata).
    getKeyInfoContent: SignedXml.getKeyInfoContent,
  });
  const target = `//*[@ID=${xpathLiteral(targetId)}]`;
  signed.addReference({
    xpath: target,
    transforms: [ENVELOPED, EXC_C14N],
    digestAlgorithm: DIGEST_ALGORITHMS[algorithms.digest],
  });
  signed.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: `${target}/*[local-name(.)='Issuer']`, action: 'after' },
  });
  return signed.getSignedXml();
}

/**
 * The XML Signature Wrapping attacks of "On Breaking SAML: Be Whoever You Want to Be"
 * (Somorovsky et al., 2012) as SAML Raider builds them (CompassSecurity/SAMLRaider XSWHelpers).
 * Input: an honest response whose signature (on the Response for XSW1/2, on the Assertion for
 * XSW3–8) is valid. Output: the original signed element is still present byte-for-byte (minus
 * its enveloped signature, which the enveloped transform removes anyway), so the signature
 * verifies; but the evil assertion — unsigned, for another user — sits where a naive SP looks.
 * Where SAML Raider edits a clone with match-and-replace, the evil assertion here is built
 * fresh for `evilAssertionXml`'s user with the same conditions, audience and InResponseTo.
 */
function wrapSignature(signedXml: string, variant: XswVariant, evilAssertionXml: string): string {
  const doc = parseXml(signedXml);
  const response = doc.documentElement!;
  const original = getChild(response, NS.saml, 'Assertion');
  const evilRoot = parseXml(evilAssertionXml).documentElement!;
  const evil = doc.importNode(evilRoot, true);
  switch (variant) {
    case 'XSW1':
    case 'XSW2': {
      const responseSignature = getChild(response, NS.ds, 'Signature');
      const signedCopy = response.cloneNode(true);
      signedCopy.removeChild(getChild(signedCopy, NS.ds, 'Signature'));
      // The Response in place becomes the evil one: new ID, evil assertion, original signature.
      response.setAttribute('ID', `_evil_response_${randomBytes(8).toString('hex')}`);
      response.replaceChild(evil, original);
      if (variant === 'XSW1') {
        // XSW1: the signed copy of the original Response is the last child of the Signature
        // (the signature becomes enveloping), so #<original id> resolves inside it.
        responseSignature.appendChild(signedCopy);
      } else {
        // XSW2: the signed copy sits right before the Signature, as a sibling inside the evil
        // Response (a detached signature).
        response.insertBefore(signedCopy, responseSignature);
      }
      break;
    }
    case 'XSW3':
      // XSW3: the evil assertion (own ID, no signature) goes before the signed one, as its
      // sibling: an SP that takes the first Assertion reads the evil one.
      response.insertBefore(evil, original);
      break;
    case 'XSW4':
      // XSW4: the evil assertion (own ID, no signature) replaces the signed one, which becomes
      // its last child: the evil assertion wraps the original.
      response.replaceChild(evil, original);
      evil.appendChild(original);
      break;
    case 'XSW5': {
      // XSW5: the evil assertion (own ID) takes the original's place and its Signature; the
      // original, without it, goes to the end of the Response. The signature's parent is not
      // the element it references any more.
      const signature = getChild(original, NS.ds, 'Signature');
      insertAfter(evil, signature, getChild(evil, NS.saml, 'Issuer'));
      response.replaceChild(evil, original);
      response.appendChild(original);
      break;
    }
    case 'XSW6': {
      // XSW6: like XSW5, but the original (without its signature) goes inside the Signature the
      // evil assertion now carries: evil assertion > Signature > original assertion.
      const signature = getChild(original, NS.ds, 'Signature');
      insertAfter(evil, signature, getChild(evil, NS.saml, 'Issuer'));
      response.replaceChild(evil, original);
      signature.appendChild(original);
      break;
    }
    case 'XSW7': {
      // XSW7: a samlp:Extensions element (lax schema, so schema-validating SPs accept anything
      // in it) before the signed assertion holds the evil assertion, which has the SAME ID as
      // the original and no signature. Aimed at SPs that check "the signed ID is the processed
      // ID" but resolve that ID to the first match. (SAML Raider puts the copy, not the
      // original, into Extensions; the original stays signed in place.)
      const extensions = doc.createElementNS(NS.samlp, 'samlp:Extensions');
      response.insertBefore(extensions, original);
      extensions.appendChild(evil);
      break;
    }
    case 'XSW8': {
      // XSW8: the evil assertion (SAME ID as the original) takes the original's place and its
      // Signature; the original, without its signature, goes into a ds:Object (lax content)
      // appended to that Signature.
      const signature = getChild(original, NS.ds, 'Signature');
      insertAfter(evil, signature, getChild(evil, NS.saml, 'Issuer'));
      response.replaceChild(evil, original);
      const object = doc.createElementNS(NS.ds, 'ds:Object');
      signature.appendChild(object);
      object.appendChild(original);
      break;
    }
  }
  return new xmldom.XMLSerializer().serializeToString(doc);
}

export async function startTestSamlIdp(options: {
  users: SamlIdpUser[];
  groupsAttribute?: string;
  certificateValidDays?: number;
}): Promise<TestSamlIdp> {
  const validDays = options.certificateValidDays ?? 365;
  const defaultGroupsAttribute = options.groupsAttribute ?? 'groups';
  const users = new Map<string, SamlIdpUser>(); // by email, in the order given
  for (const user of options.users) users.set(user.email, user);

  let signingKey = await createSigningKey('Gatehouse test SAML IdP', validDays);
  let publishedKeys: SigningKey[] = [signingKey]; // what the metadata lists
  // Self-signed like the real one and with the same subject, so only the key tells them apart.
  const attackerKey = await createSigningKey('Gatehouse test SAML IdP', validDays);

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/saml/metadata' && (request.method === 'GET' || request.method === 'HEAD')) {
      // no-store: a rotation test expects the SP's next fetch to see the new certificate.
      response.writeHead(200, {
        'content-type': 'application/samlmetadata+xml',
        'cache-control': 'no-store',
      });
      response.end(request.method === 'HEAD' ? undefined : metadataXml());
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const entityId = `${origin}/saml/metadata`;
  const ssoUrl = `${origin}/saml/sso`;

  function metadataXml(): string {
    const keyDescriptors = publishedKeys
      .map(
        (key) =>
          '<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>' +
          `<ds:X509Certificate>${certificateBase64(key.certificatePem)}</ds:X509Certificate>` +
          '</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>',
      )
      .join('');
    return (
      '<?xml version="1.0" encoding="UTF-8"?>' +
      `<md:EntityDescriptor xmlns:md="${NS.md}" xmlns:ds="${NS.ds}" entityID="${escapeXml(entityId)}">` +
      `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="${NS.samlp}">` +
      keyDescriptors +
      `<md:NameIDFormat>${EMAIL_NAME_ID}</md:NameIDFormat>` +
      '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" ' +
      `Location="${escapeXml(ssoUrl)}"/>` +
      '</md:IDPSSODescriptor>' +
      '</md:EntityDescriptor>'
    );
  }

  function pickUser(requestedNameId: string | undefined): SamlIdpUser {
    if (requestedNameId !== undefined) {
      for (const user of users.values()) {
        if (user.nameId === requestedNameId || user.email === requestedNameId) return user;
      }
    }
    const first = users.values().next();
    if (first.done) throw new Error('the test SAML IdP has no users');
    return first.value;
  }

  function buildPost(
    context: {
      acsUrl: string;
      audience: string | undefined;
      inResponseTo: string | undefined;
      requestedNameId?: string;
    },
    relayState: string | undefined,
    responseOptions: SamlResponseOptions,
  ): SamlPost {
    const o = responseOptions;
    const audience = o.audience ?? context.audience;
    if (audience === undefined) throw new Error('AuthnRequest has no Issuer: pass `audience`');
    const now = new Date();
    const settings: ResponseSettings = {
      now,
      issuer: o.issuer ?? entityId,
      audience,
      recipient: o.recipient ?? context.acsUrl,
      destination: o.destination ?? context.acsUrl,
      inResponseTo: o.inResponseTo === undefined ? context.inResponseTo : (o.inResponseTo ?? undefined),
      notBefore: o.notBefore ?? new Date(now.getTime() - 60_000),
      notOnOrAfter: o.notOnOrAfter ?? new Date(now.getTime() + 5 * 60_000),
      groupsAttribute: o.groupsAttribute ?? defaultGroupsAttribute,
      emailAttribute: o.emailAttribute ?? 'email',
      sessionIndex: o.sessionIndex ?? randomId(),
    };
    const user = o.user ?? pickUser(context.requestedNameId);
    // A wrapping attack needs the signature it wraps: the response's for XSW1/2, else the assertion's.
    const wrapsResponse = o.wrap === 'XSW1' || o.wrap === 'XSW2';
    const signAssertion = o.wrap !== undefined && !wrapsResponse ? true : (o.signAssertion ?? true);
    const signResponse = wrapsResponse ? true : (o.signResponse ?? false);
    const key = o.signWith === 'attacker' ? attackerKey : signingKey;
    const algorithms = {
      signature: o.signatureAlgorithm ?? 'rsa-sha256',
      digest: o.digestAlgorithm ?? 'sha256',
    } as const;

    const assertionId = o.assertionId ?? randomId();
    const responseId = randomId();
    let xml = responseXml(responseId, assertionXml(user, assertionId, settings), settings);
    // Assertion first: the response signature then covers the assertion's signature too.
    if (signAssertion) xml = signElement(xml, assertionId, key, algorithms);
    if (signResponse) xml = signElement(xml, responseId, key, algorithms);
    if (o.wrap !== undefined) {
      if (!o.evilUser) throw new Error(`wrap: '${o.wrap}' needs evilUser (the identity to smuggle in)`);
      // XSW7/XSW8 reuse the signed ID for the evil assertion, as SAML Raider does.
      const evilId =
        o.wrap === 'XSW7' || o.wrap === 'XSW8'
          ? assertionId
          : `_evil_assertion_${randomBytes(8).toString('hex')}`;
      xml = wrapSignature(xml, o.wrap, assertionXml(o.evilUser, evilId, settings));
    }
    if (o.mutateXml) xml = o.mutateXml(xml);

    return {
      acsUrl: context.acsUrl,
      form: {
        SAMLResponse: Buffer.from(xml, 'utf8').toString('base64'),
        ...(relayState === undefined ? {} : { RelayState: relayState }),
      },
      xml,
      authnRequestId: context.inResponseTo,
    };
  }

  return {
    entityId,
    ssoUrl,
    metadataUrl: entityId,
    metadataXml,
    get certificatePem(): string {
      return signingKey.certificatePem;
    },
    async rotateCertificate(rotation?: { keepOld?: boolean }): Promise<void> {
      const next = await createSigningKey('Gatehouse test SAML IdP', validDays);
      publishedKeys = rotation?.keepOld ? [...publishedKeys, next] : [next];
      signingKey = next;
    },
    setUser(user: SamlIdpUser): void {
      users.set(user.email, user);
    },
    async respond(redirectUrl: string, responseOptions: SamlResponseOptions = {}): Promise<SamlPost> {
      const url = new URL(redirectUrl);
      if (`${url.origin}${url.pathname}` !== ssoUrl)
        throw new Error(`not a redirect to this IdP's SSO endpoint ${ssoUrl}: ${redirectUrl}`);
      const samlRequest = url.searchParams.get('SAMLRequest');
      if (!samlRequest) throw new Error(`redirect has no SAMLRequest: ${redirectUrl}`);
      const request = parseAuthnRequest(samlRequest);
      // This IdP knows no SP metadata, so the ACS URL can only come from the request.
      const acsUrl = request.acsUrl ?? responseOptions.destination;
      if (!acsUrl) throw new Error('AuthnRequest has no AssertionConsumerServiceURL: pass `destination`');
      return buildPost(
        { acsUrl, audience: request.issuer, inResponseTo: request.id, requestedNameId: request.nameId },
        url.searchParams.get('RelayState') ?? undefined,
        responseOptions,
      );
    },
    async unsolicited(input): Promise<SamlPost> {
      const { acsUrl, audience, relayState, ...responseOptions } = input;
      return buildPost(
        { acsUrl, audience, inResponseTo: undefined },
        relayState,
        // No AuthnRequest, so nothing to answer; an explicit inResponseTo still wins (forged-ID tests).
        { ...responseOptions, inResponseTo: responseOptions.inResponseTo ?? null },
      );
    },
    close(): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
