import { defineErrors } from '../core/errors.ts';

export const httpErrors = defineErrors('http', {
  csrfFailed: {
    code: 'csrf_failed',
    status: 403,
    message: 'The request lacks a valid CSRF token; reload the page and try again.',
  },
  permissionDenied: { code: 'permission_denied', status: 403, message: 'Your role does not allow this.' },
  readOnlyCredential: {
    code: 'read_only_credential',
    status: 403,
    message: 'This credential may only read.',
  },
  insufficientScope: {
    code: 'insufficient_scope',
    status: 403,
    message: 'The token lacks the scope this needs.',
  },
  routeNotFound: { code: 'route_not_found', status: 404, message: 'No such route.' },
  orgAccessDenied: {
    code: 'org_access_denied',
    status: 403,
    message: 'The caller is not a member of this organization, or it does not exist.',
  },
  credentialOrgMismatch: {
    code: 'credential_org_mismatch',
    status: 403,
    message: 'This credential belongs to another organization.',
  },
});
