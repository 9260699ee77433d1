import { commonErrors, defineErrors } from '../core/errors.ts';
import { tenancyErrors } from '../tenancy/index.ts';

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
  invalidValue: {
    code: 'scim_invalid_value',
    status: 400,
    message: 'A value is missing, or is not of the type its attribute takes.',
  },
  invalidSyntax: {
    code: 'scim_invalid_syntax',
    status: 400,
    message: 'The request does not follow the SCIM schema for it.',
  },
  noTarget: {
    code: 'scim_no_target',
    status: 400,
    message: 'The PATCH operation names no value it could change.',
  },
  notFound: {
    code: 'scim_resource_not_found',
    status: 404,
    message: 'No such resource.',
  },
  uniqueness: {
    code: 'scim_uniqueness',
    status: 409,
    message: 'Another resource of this organization already has this value.',
  },
  preconditionFailed: {
    code: 'scim_precondition_failed',
    status: 412,
    message: 'The resource has changed since the version named in If-Match.',
  },
  mutability: {
    code: 'scim_mutability',
    status: 400,
    message: 'The operation would change an attribute that cannot be changed.',
  },
});

/** The scimType of each code (RFC 7644 §3.12, Table 9). */
export const SCIM_TYPES: Readonly<Record<string, string>> = {
  [scimErrors.invalidFilter.code]: 'invalidFilter',
  [scimErrors.invalidPath.code]: 'invalidPath',
  [scimErrors.invalidValue.code]: 'invalidValue',
  [scimErrors.invalidSyntax.code]: 'invalidSyntax',
  [scimErrors.noTarget.code]: 'noTarget',
  [scimErrors.mutability.code]: 'mutability',
  [scimErrors.uniqueness.code]: 'uniqueness',
  // What the tenancy service refuses while provisioning, in SCIM's words.
  [tenancyErrors.nameTaken.code]: 'uniqueness',
  [tenancyErrors.userExists.code]: 'uniqueness',
  [tenancyErrors.notMembers.code]: 'invalidValue',
  [tenancyErrors.invalidEmail.code]: 'invalidValue',
  // A body that is not JSON, or a query parameter of the wrong shape.
  [commonErrors.invalidRequest.code]: 'invalidSyntax',
};
