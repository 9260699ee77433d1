import { defineErrors } from '../core/errors.ts';

export const sessionErrors = defineErrors('sessions', {
  invalidCredentials: {
    code: 'invalid_credentials',
    status: 401,
    message: 'The email or password is not correct.',
  },
  accountSuspended: {
    code: 'account_suspended',
    status: 403,
    message: 'This account is suspended; ask an administrator.',
  },
  ssoRequired: {
    code: 'sso_required',
    status: 403,
    message:
      'Your organization requires single sign-on: leave the password empty to be sent to its sign-in page.',
  },
  tooManyAttempts: {
    code: 'too_many_sign_in_attempts',
    status: 429,
    message: 'Too many failed sign-in attempts; wait before trying again.',
  },
  sessionInvalid: {
    code: 'session_invalid',
    status: 401,
    message: 'The session is not valid; sign in again.',
  },
  sessionExpired: {
    code: 'session_expired',
    status: 401,
    message: 'The session has expired; sign in again.',
  },
  sessionNotFound: { code: 'session_not_found', status: 404, message: 'No such session.' },
  setupLinkInvalid: {
    code: 'setup_link_invalid',
    status: 400,
    message:
      'This setup link is not valid, has expired or was already used. Restart Gatehouse for a new one.',
  },
  alreadySetUp: {
    code: 'already_set_up',
    status: 409,
    message: 'Gatehouse is already set up; sign in instead.',
  },
});
