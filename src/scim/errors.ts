import { defineErrors } from '../core/errors.ts';

/**
 * SCIM's errors (RFC 7644 §3.12). Each code has the `scimType` the SCIM error schema carries
 * (SCIM_TYPES); the message says what exactly was wrong, since IdP consoles show it verbatim.
 */
export const scimErrors = defineErrors('scim', {
  invalidFilter: {
    code: 'scim_invalid_filter',
    status: 400,
    message:
      'The filter is not valid SCIM filter syntax, or uses an attribute or operator not supported here.',
  },
  invalidPath: {
    code: 'scim_invalid_path',
    status: 400,
    message: 'The PATCH path is not valid, or names an attribute this resource does not have.',
  },
});

/** The scimType of each code (RFC 7644 §3.12, Table 9). */
export const SCIM_TYPES: Readonly<Record<string, string>> = {
  [scimErrors.invalidFilter.code]: 'invalidFilter',
  [scimErrors.invalidPath.code]: 'invalidPath',
};
