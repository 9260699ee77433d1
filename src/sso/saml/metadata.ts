// IdP metadata (SAML 2.0 Metadata §2.4.3): the entity id, the HTTP-Redirect single sign-on
// endpoint and the signing certificates, read from XML an admin pasted or Gatehouse fetched.
// Fetching is bounded in time and size and only over https (http on loopback).
import { X509Certificate } from 'node:crypto';
import { childElements, descendants, isElement, NS, parseXml, XmlRefused } from './xml.ts';

export const HTTP_REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const MAX_METADATA_BYTES = 1024 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

export interface IdpMetadata {
  readonly entityId: string;
  readonly ssoUrl: string;
  /** PEM, each one a signing certificate (several during a rotation). */
  readonly certificates: readonly string[];
}

/** A base64 DER certificate as PEM; throws if it is not a certificate. */
export function toPem(base64Der: string): string {
  const body = base64Der.replace(/\s+/g, '');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
  new X509Certificate(pem);
  return pem;
}

/** When a PEM certificate stops being valid, in epoch ms. */
export function certificateExpiry(pem: string): number {
  return new Date(new X509Certificate(pem).validTo).getTime();
}

export function parseIdpMetadata(xml: string): IdpMetadata {
  const root = parseXml(xml);
  const entity = isElement(root, NS.metadata, 'EntityDescriptor')
    ? root
    : descendants(root, NS.metadata, 'EntityDescriptor')[0];
  const entityId = entity?.getAttribute('entityID');
  const idp = entity ? childElements(entity, NS.metadata, 'IDPSSODescriptor')[0] : undefined;
  if (!entity || !entityId || !idp) throw new XmlRefused('no EntityDescriptor with an IDPSSODescriptor');
  const sso = childElements(idp, NS.metadata, 'SingleSignOnService').find(
    (s) => s.getAttribute('Binding') === HTTP_REDIRECT_BINDING,
  );
  const ssoUrl = sso?.getAttribute('Location');
  if (!ssoUrl) throw new XmlRefused('no SingleSignOnService with the HTTP-Redirect binding');
  const certificates: string[] = [];
  for (const key of childElements(idp, NS.metadata, 'KeyDescriptor')) {
    const use = key.getAttribute('use');
    if (use && use !== 'signing') continue;
    for (const cert of descendants(key, NS.dsig, 'X509Certificate')) {
      const pem = toPem(cert.textContent ?? '');
      if (!certificates.includes(pem)) certificates.push(pem);
    }
  }
  if (certificates.length === 0) throw new XmlRefused('no signing certificate');
  return { entityId, ssoUrl, certificates };
}

/** Fetches metadata from the IdP: https (or http on loopback), 10 s, 1 MiB at most. */
export async function fetchIdpMetadata(
  url: string,
  acceptable: (url: string) => boolean,
): Promise<IdpMetadata> {
  if (!acceptable(url))
    throw new XmlRefused('the metadata URL must be https (http only on a loopback address)');
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
  if (!response.ok) throw new XmlRefused(`the metadata URL answered ${response.status}`);
  const length = Number(response.headers.get('content-length') ?? '0');
  if (length > MAX_METADATA_BYTES) throw new XmlRefused('the metadata is larger than 1 MiB');
  // Read in chunks and stop at the limit: a lying or absent Content-Length cannot make us buffer more.
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_METADATA_BYTES) {
      await reader.cancel();
      throw new XmlRefused('the metadata is larger than 1 MiB');
    }
    chunks.push(Buffer.from(value));
  }
  return parseIdpMetadata(Buffer.concat(chunks).toString('utf8'));
}
