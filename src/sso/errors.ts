import { defineErrors } from '../core/errors.ts';

/**
 * Connection management answers with the field at fault; sign-in failures name the check
 * that failed (the detail, with what the IdP sent, goes to the audit log, not the browser).
 */
export const ssoErrors = defineErrors('sso', {
  connectionNotFound: {
    code: 'sso_connection_not_found',
    status: 404,
    message: 'No such SSO connection in this organization.',
  },
  connectionNameTaken: {
    code: 'sso_connection_name_taken',
    status: 409,
    message: 'This organization already has an SSO connection with that name.',
  },
  unknownPreset: { code: 'sso_preset_unknown', status: 400, message: 'There is no such SSO preset.' },
  presetTypeMismatch: {
    code: 'sso_preset_type_mismatch',
    status: 400,
    message: 'This preset is for another connection type.',
  },
  typeUnsupported: {
    code: 'sso_type_unsupported',
    status: 400,
    message: 'A connection is of type oidc or saml.',
  },
  metadataInvalid: {
    code: 'sso_saml_metadata_invalid',
    status: 400,
    message: 'The IdP metadata is not usable.',
  },
  unsolicitedRefused: {
    code: 'sso_saml_unsolicited_refused',
    status: 403,
    message: 'This connection accepts only sign-ins started at Gatehouse (IdP-initiated sign-in is off).',
  },
  testSignInForbidden: {
    code: 'sso_test_sign_in_forbidden',
    status: 403,
    message: 'Only an admin of the connection’s organization may run its test sign-in.',
  },
  tooManyStarts: {
    code: 'sso_too_many_sign_in_starts',
    status: 429,
    message: 'Too many sign-ins were started from this address; wait a minute and try again.',
  },
  assertionReplayed: {
    code: 'sso_saml_assertion_replayed',
    status: 401,
    message: 'This sign-in response was already used.',
  },
  invalidIssuer: {
    code: 'sso_issuer_invalid',
    status: 400,
    message: 'The issuer must be an https URL (http only on a loopback address), without query or fragment.',
  },
  secretRequired: {
    code: 'sso_client_secret_required',
    status: 400,
    message: 'This client authentication method needs a client secret.',
  },
  connectionDisabled: {
    code: 'sso_connection_disabled',
    status: 403,
    message: 'This SSO connection is disabled.',
  },
  discoveryFailed: {
    code: 'sso_discovery_failed',
    status: 502,
    message: 'The identity provider could not be reached or its discovery document is not valid.',
  },
  flowInvalid: {
    code: 'sso_flow_invalid',
    status: 400,
    message:
      'This sign-in link is not valid, has expired or was already used. Start again from the sign-in page.',
  },
  flowBrowserMismatch: {
    code: 'sso_flow_browser_mismatch',
    status: 400,
    message: 'This sign-in was started in another browser. Start again from the sign-in page.',
  },
  idpError: {
    code: 'sso_idp_error',
    status: 400,
    message: 'The identity provider refused the sign-in.',
  },
  responseRejected: {
    code: 'sso_response_rejected',
    status: 401,
    message: 'The identity provider’s answer failed a security check, so you were not signed in.',
  },
  emailMissing: {
    code: 'sso_email_missing',
    status: 401,
    message: 'The identity provider did not send an email address.',
  },
  emailUnverified: {
    code: 'sso_email_unverified',
    status: 403,
    message: 'The identity provider has not verified your email address, so it cannot be used to sign in.',
  },
  domainNotMapped: {
    code: 'sso_domain_not_mapped',
    status: 403,
    message: 'Your email domain is not registered with this organization.',
  },
  accountLinkRefused: {
    code: 'sso_account_link_refused',
    status: 403,
    message: 'An account with this email exists and cannot be linked to this identity provider.',
  },
  userInactive: {
    code: 'sso_user_inactive',
    status: 403,
    message: 'Your account is suspended or deprovisioned.',
  },
  domainNotFound: {
    code: 'sso_domain_not_found',
    status: 404,
    message: 'No such domain in this organization.',
  },
  domainInvalid: { code: 'sso_domain_invalid', status: 400, message: 'This is not a valid domain name.' },
  domainTaken: {
    code: 'sso_domain_taken',
    status: 409,
    message: 'This domain is already claimed by an organization.',
  },
  domainVerificationFailed: {
    code: 'sso_domain_verification_failed',
    status: 409,
    message: 'The DNS TXT record was not found on the domain.',
  },
  ruleNotFound: {
    code: 'role_rule_not_found',
    status: 404,
    message: 'No such role rule in this organization.',
  },
  ruleInvalid: {
    code: 'role_rule_invalid',
    status: 400,
    message: 'A claim rule needs `claim`; a group rule must not have one.',
  },
});
