import { defineErrors } from '../core/errors.ts';

export const authnErrors = defineErrors('authn', {
  authenticationRequired: {
    code: 'authentication_required',
    status: 401,
    message: 'Sign in or send a credential in the Authorization header.',
  },
  unsupportedCredential: {
    code: 'unsupported_credential',
    status: 401,
    message: 'The Authorization header does not carry a credential Gatehouse accepts.',
  },
});
