// The SAML 2.0 service provider (SPEC §3), on @node-saml/node-saml: SP-initiated sign-in
// with an HTTP-Redirect AuthnRequest and an HTTP-POST Response to the ACS, signed
// assertions required. What node-saml 5 leaves to the application, added here:
// - a DTD anywhere in the Response is refused before any parsing;
// - SHA-1 signature and digest algorithms are refused unless the connection allows them;
// - the Response's Destination and the bearer SubjectConfirmationData's Recipient must be
//   this connection's ACS URL (node-saml checks neither);
// - the assertion's Issuer must be the IdP's entity id (node-saml checks it only for logout);
// - InResponseTo is checked against the one request id of this browser's flow (stored in
//   the database), not a process-global cache, and a clock skew is allowed explicitly;
// - the assertion id is returned so the caller can refuse a replay (sign-in.ts).
import { type CacheProvider, type Profile, SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import { generateSecret } from '../../core/secrets.ts';
import { childElements, descendants, isElement, NS, parseXml, XmlRefused } from './xml.ts';

export interface SamlSettings {
  readonly idp_entity_id: string;
  readonly idp_sso_url: string;
  /** PEM; more than one while the IdP rotates its signing certificate. */
  readonly idp_certificates: readonly string[];
  /** Re-fetched on a schedule when set, so a certificate rotation at the IdP needs no admin. */
  readonly metadata_url: string | null;
  readonly allow_sha1: boolean;
  /** IdP-initiated sign-in (no AuthnRequest): refused unless allowed. */
  readonly allow_unsolicited: boolean;
  /** SAML carries no email_verified: the admin states whether this IdP's emails are verified. */
  readonly trust_email: boolean;
  readonly email_attribute: string;
  readonly name_attribute: string;
  readonly groups_attribute: string;
}

export interface SamlIdentity {
  readonly subject: string;
  readonly email: string | undefined;
  readonly name: string | undefined;
  readonly groups: unknown;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly assertionId: string;
  /** Until when the assertion id must be remembered to refuse its replay. */
  readonly validUntil: number;
}

export class SamlStepError extends Error {
  constructor(
    readonly step: 'saml_response' | 'signature' | 'conditions' | 'recipient' | 'issuer' | 'in_response_to',
    readonly reason: string,
    cause?: unknown,
  ) {
    super(`${step}: ${reason}`, { cause });
    this.name = 'SamlStepError';
  }
}

const SHA1_ALGORITHMS = new Set([
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
  'http://www.w3.org/2000/09/xmldsig#sha1',
  'http://www.w3.org/2000/09/xmldsig#dsa-sha1',
]);
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const MAX_RESPONSE_BYTES = 256 * 1024;

export interface SamlEndpoints {
  readonly entityId: string;
  readonly acsUrl: string;
}

export function samlEndpoints(publicUrl: string, connectionId: string): SamlEndpoints {
  return {
    entityId: `${publicUrl}/sso/saml/${connectionId}/metadata`,
    acsUrl: `${publicUrl}/sso/saml/${connectionId}/acs`,
  };
}

/** The AuthnRequest a Response must answer: its id and when the flow sent it. */
export interface ExpectedRequest {
  readonly requestId: string;
  readonly issuedAt: number;
}

/**
 * node-saml's request-id cache, holding exactly the one request this flow sent (or none):
 * node-saml reads the value as the request's creation time.
 */
function flowCache(expected: ExpectedRequest | null, onSave?: (id: string) => void): CacheProvider {
  return {
    saveAsync: async (key, value) => {
      onSave?.(key);
      return { value, createdAt: Date.now() };
    },
    getAsync: async (key) =>
      expected !== null && key === expected.requestId ? new Date(expected.issuedAt).toISOString() : null,
    removeAsync: async (key) => key,
  };
}

export function createSamlServiceProvider(options: { publicUrl: string; clockSkewMs: number }) {
  function samlFor(
    connectionId: string,
    settings: SamlSettings,
    cache: CacheProvider,
    unsolicited: boolean,
  ): SAML {
    const endpoints = samlEndpoints(options.publicUrl, connectionId);
    return new SAML({
      callbackUrl: endpoints.acsUrl,
      issuer: endpoints.entityId,
      audience: endpoints.entityId,
      entryPoint: settings.idp_sso_url,
      idpCert: [...settings.idp_certificates],
      idpIssuer: settings.idp_entity_id,
      wantAssertionsSigned: true,
      // An IdP may sign only the assertion; a signed assertion is what is required.
      wantAuthnResponseSigned: false,
      acceptedClockSkewMs: options.clockSkewMs,
      validateInResponseTo: unsolicited ? ValidateInResponseTo.never : ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: 10 * 60_000,
      cacheProvider: cache,
      generateUniqueId: () => `_${generateSecret(20)}`,
      identifierFormat: null,
      disableRequestedAuthnContext: true,
    });
  }

  /** The IdP URL to send the browser to, with RelayState, and the AuthnRequest id to expect back. */
  async function authorizationUrl(
    connectionId: string,
    settings: SamlSettings,
    relayState: string,
  ): Promise<{ url: string; requestId: string }> {
    let requestId: string | undefined;
    const saml = samlFor(
      connectionId,
      settings,
      flowCache(null, (id) => (requestId = id)),
      false,
    );
    const url = await saml.getAuthorizeUrlAsync(relayState, undefined, {});
    if (!requestId) throw new Error('node-saml made no request id');
    return { url, requestId };
  }

  function checkEnvelope(xml: string, settings: SamlSettings, acsUrl: string): void {
    let root: ReturnType<typeof parseXml>;
    try {
      root = parseXml(xml);
    } catch (error) {
      throw new SamlStepError('saml_response', (error as Error).message, error);
    }
    if (!isElement(root, NS.protocol, 'Response'))
      throw new SamlStepError('saml_response', 'not a SAML Response');
    if (!settings.allow_sha1) {
      for (const name of ['SignatureMethod', 'DigestMethod']) {
        for (const method of descendants(root, NS.dsig, name))
          if (SHA1_ALGORITHMS.has(method.getAttribute('Algorithm') ?? ''))
            throw new SamlStepError('signature', `SHA-1 (${name}) is not allowed for this connection`);
      }
    }
    const destination = root.getAttribute('Destination');
    if (destination !== acsUrl)
      throw new SamlStepError('recipient', `Destination is ${destination ?? 'missing'}, not this ACS`);
  }

  /** Issuer and Recipient, read from the assertion node-saml verified (not from the envelope). */
  function checkAssertion(
    profile: Profile,
    settings: SamlSettings,
    acsUrl: string,
  ): { assertionId: string; validUntil: number } {
    const xml = profile.getAssertionXml?.();
    if (!xml) throw new SamlStepError('saml_response', 'no assertion');
    const assertion = parseXml(xml);
    const issuer = childElements(assertion, NS.assertion, 'Issuer')[0]?.textContent?.trim();
    if (issuer !== settings.idp_entity_id)
      throw new SamlStepError(
        'issuer',
        `the assertion's Issuer is ${issuer ?? 'missing'}, not ${settings.idp_entity_id}`,
      );
    const subject = childElements(assertion, NS.assertion, 'Subject')[0];
    const confirmations = subject ? childElements(subject, NS.assertion, 'SubjectConfirmation') : [];
    const recipients = confirmations
      .filter((c) => c.getAttribute('Method') === BEARER)
      .flatMap((c) => childElements(c, NS.assertion, 'SubjectConfirmationData'))
      .map((d) => ({ recipient: d.getAttribute('Recipient'), notOnOrAfter: d.getAttribute('NotOnOrAfter') }));
    const mine = recipients.find((r) => r.recipient === acsUrl);
    if (!mine)
      throw new SamlStepError('recipient', 'no bearer SubjectConfirmationData names this ACS as Recipient');
    const assertionId = assertion.getAttribute('ID');
    if (!assertionId) throw new SamlStepError('saml_response', 'the assertion has no ID');
    const conditions = childElements(assertion, NS.assertion, 'Conditions')[0];
    const until = [mine.notOnOrAfter, conditions?.getAttribute('NotOnOrAfter')]
      .map((v) => (v ? Date.parse(v) : Number.NaN))
      .filter((v) => Number.isFinite(v));
    return {
      assertionId,
      validUntil: (until.length ? Math.max(...until) : Date.now() + 10 * 60_000) + options.clockSkewMs,
    };
  }

  /**
   * Validates a posted SAMLResponse for the connection. `expected` is the flow's AuthnRequest;
   * null for an unsolicited response (the caller decides whether that is allowed).
   */
  async function validateResponse(
    connectionId: string,
    settings: SamlSettings,
    samlResponse: string,
    expected: ExpectedRequest | null,
  ): Promise<SamlIdentity> {
    const { acsUrl } = samlEndpoints(options.publicUrl, connectionId);
    if (samlResponse.length > (MAX_RESPONSE_BYTES * 4) / 3 || !/^[A-Za-z0-9+/=\s]+$/.test(samlResponse))
      throw new SamlStepError('saml_response', 'SAMLResponse is not base64 or too large');
    const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
    checkEnvelope(xml, settings, acsUrl);
    const saml = samlFor(connectionId, settings, flowCache(expected), expected === null);
    let profile: Profile | null;
    try {
      ({ profile } = await saml.validatePostResponseAsync({ SAMLResponse: samlResponse }));
    } catch (error) {
      const message = (error as Error).message ?? 'invalid response';
      const step = /InResponseTo/.test(message)
        ? 'in_response_to'
        : /signature/i.test(message)
          ? 'signature'
          : /expired|not yet valid|audience|subject confirmation/i.test(message)
            ? 'conditions'
            : 'saml_response';
      throw new SamlStepError(step, message.slice(0, 300), error);
    }
    if (!profile) throw new SamlStepError('saml_response', 'no profile in the response');
    let checked: { assertionId: string; validUntil: number };
    try {
      checked = checkAssertion(profile, settings, acsUrl);
    } catch (error) {
      if (error instanceof XmlRefused) throw new SamlStepError('saml_response', error.message, error);
      throw error;
    }
    const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
    const text = (value: unknown) => (typeof value === 'string' && value.trim() ? value.trim() : undefined);
    return {
      subject: profile.nameID,
      email:
        text(attributes[settings.email_attribute]) ??
        (profile.nameID.includes('@') ? profile.nameID : undefined),
      name: text(attributes[settings.name_attribute]),
      groups: attributes[settings.groups_attribute],
      attributes,
      ...checked,
    };
  }

  /** The SP metadata an admin gives the IdP: entity id, ACS (HTTP-POST), signed assertions wanted. */
  function serviceProviderMetadata(connectionId: string, settings: SamlSettings): string {
    return samlFor(connectionId, settings, flowCache(null), false).generateServiceProviderMetadata(
      null,
      null,
    );
  }

  return { authorizationUrl, validateResponse, serviceProviderMetadata };
}

export type SamlServiceProvider = ReturnType<typeof createSamlServiceProvider>;
