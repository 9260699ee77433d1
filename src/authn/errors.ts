import { defineErrors } from '../core/errors.ts';

export const authnErrors = defineErrors('authn', {
  authenticationRequired: {
    code: 'authentication_required',
    status: 401,
    message: 'Sign in or send a credential in the Authorization header.',
  },
  malformedAuthorization: {
    code: 'malformed_authorization_header',
    status: 401,
    message: 'The Authorization header must be "Bearer <credential>".',
  },
  unsupportedCredential: {
    code: 'unsupported_credential',
    status: 401,
    message: 'The Authorization header does not carry a credential Gatehouse accepts.',
  },
  tooManyFailures: {
    code: 'too_many_failed_authentications',
    status: 429,
    message: 'Too many requests with invalid credentials from this address; retry later.',
  },
});
