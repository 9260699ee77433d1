import { defineErrors } from '../core/errors.ts';

export const auditErrors = defineErrors('audit', {
  invalidCursor: { code: 'invalid_cursor', status: 400, message: 'The cursor is not one this API issued.' },
  invalidFilter: {
    code: 'invalid_audit_filter',
    status: 400,
    message: 'An audit filter value is not valid.',
  },
});
