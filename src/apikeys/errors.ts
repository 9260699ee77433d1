import { defineErrors } from '../core/errors.ts';

/** Each way a presented key can fail has its own code, so a caller (or its operator) knows what to fix. */
export const apiKeyErrors = defineErrors('apikeys', {
  malformed: {
    code: 'api_key_malformed',
    status: 401,
    message: 'The API key is not in the gk_ format; copy it again in full.',
  },
  badChecksum: {
    code: 'api_key_checksum_mismatch',
    status: 401,
    message: 'The API key is mistyped or truncated: its checksum does not match.',
  },
  unknownKey: { code: 'api_key_unknown', status: 401, message: 'No such API key.' },
  wrongSecret: { code: 'api_key_secret_mismatch', status: 401, message: 'The API key is not valid.' },
  revoked: { code: 'api_key_revoked', status: 401, message: 'The API key has been revoked.' },
  expired: { code: 'api_key_expired', status: 401, message: 'The API key has expired.' },
  ownerInactive: {
    code: 'api_key_owner_inactive',
    status: 401,
    message: 'The owner of this API key is suspended, disabled or no longer in the organization.',
  },
  notFound: { code: 'api_key_not_found', status: 404, message: 'No such API key in this organization.' },
  managementForbidden: {
    code: 'api_key_management_forbidden',
    status: 403,
    message: 'Only admins manage the keys of service accounts and other members.',
  },
  inactive: {
    code: 'api_key_inactive',
    status: 409,
    message: 'The API key is revoked, expired or already rotated; create a new one instead.',
  },
  invalidExpiry: {
    code: 'api_key_invalid_expiry',
    status: 400,
    message: 'expires_at must be a date-time in the future.',
  },
  scimTokenMalformed: {
    code: 'scim_token_malformed',
    status: 401,
    message: 'The SCIM token is not in the gks_ format, or is mistyped: copy it again in full.',
  },
  scimTokenRefused: {
    code: 'scim_token_refused',
    status: 401,
    message: 'The SCIM token is unknown, revoked or expired; make a new one in the organization.',
  },
  scimTokenNotFound: {
    code: 'scim_token_not_found',
    status: 404,
    message: 'No such SCIM token in this organization.',
  },
});
