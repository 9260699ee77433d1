import { defineErrors } from '../core/errors.ts';

export const tenancyErrors = defineErrors('tenancy', {
  orgNotFound: {
    code: 'org_not_found',
    status: 404,
    message: 'No such organization, or you are not a member of it.',
  },
  orgSlugTaken: {
    code: 'org_slug_taken',
    status: 409,
    message: 'An organization with this slug already exists.',
  },
  invalidSlug: {
    code: 'invalid_slug',
    status: 400,
    message: 'A slug is 2-40 lower-case letters, digits and inner hyphens.',
  },
  invalidEmail: { code: 'invalid_email', status: 400, message: 'The email address is not valid.' },
  userNotFound: { code: 'user_not_found', status: 404, message: 'No such user in this organization.' },
  memberExists: {
    code: 'member_exists',
    status: 409,
    message: 'This user is already a member of the organization.',
  },
  userExists: {
    code: 'user_exists',
    status: 409,
    message: 'A user with this email already exists; add them without a password.',
  },
  breakGlassInvalid: {
    code: 'org_break_glass_invalid',
    status: 400,
    message: 'The break-glass account must be an active admin of this organization.',
  },
  lastAdmin: {
    code: 'last_admin',
    status: 409,
    message: 'An organization must keep at least one active admin.',
  },
  memberOfOtherOrgs: {
    code: 'member_of_other_orgs',
    status: 409,
    message:
      'This user belongs to other organizations too; remove them from this one instead of suspending them.',
  },
  cannotChangeSelf: {
    code: 'cannot_change_self',
    status: 409,
    message: 'You cannot suspend yourself or change your own role.',
  },
  userDeprovisioned: {
    code: 'user_deprovisioned',
    status: 409,
    message: 'This user has been deprovisioned.',
  },
  weakPassword: {
    code: 'weak_password',
    status: 400,
    message: 'A password needs at least 12 characters and at most 256.',
  },
  nameTaken: { code: 'name_taken', status: 409, message: 'This name is already used in the organization.' },
  projectNotFound: {
    code: 'project_not_found',
    status: 404,
    message: 'No such project in this organization.',
  },
  notMembers: {
    code: 'not_org_members',
    status: 400,
    message: 'Only users of this organization can be put in its groups.',
  },
  groupNotFound: { code: 'group_not_found', status: 404, message: 'No such group in this organization.' },
  serviceAccountNotFound: {
    code: 'service_account_not_found',
    status: 404,
    message: 'No such service account in this organization.',
  },
});
