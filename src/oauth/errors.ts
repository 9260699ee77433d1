import { defineErrors } from '../core/errors.ts';

/** Each way a presented access token can fail has its own code (all 401: present a valid one). */
export const oauthErrors = defineErrors('oauth', {
  tokenInvalid: {
    code: 'access_token_invalid',
    status: 401,
    message: 'The access token is not one this server issued, or it has been altered.',
  },
  tokenExpired: { code: 'access_token_expired', status: 401, message: 'The access token has expired.' },
  wrongAudience: {
    code: 'access_token_wrong_audience',
    status: 401,
    message: 'The access token was issued for another resource; request one for this API.',
  },
  noUser: {
    code: 'access_token_without_user',
    status: 401,
    message:
      'The access token acts for no Gatehouse user or service account (a client-credentials token of a client that has none).',
  },
  userInactive: {
    code: 'access_token_user_inactive',
    status: 401,
    message: 'The user this access token acts for is suspended or deprovisioned.',
  },
  serviceAccountDisabled: {
    code: 'access_token_service_account_disabled',
    status: 401,
    message: 'The service account this access token acts as is disabled.',
  },
  clientNotFound: { code: 'oauth_client_not_found', status: 404, message: 'No such OAuth client here.' },
  grantRevoked: {
    code: 'access_token_revoked',
    status: 401,
    message: 'The access token was revoked (its authorization was withdrawn); sign in to the client again.',
  },
  interactionExpired: {
    code: 'oauth_interaction_expired',
    status: 400,
    message:
      'This sign-in request has expired or was already completed. Return to the application and start again.',
  },
  interactionWrongUser: {
    code: 'oauth_interaction_wrong_user',
    status: 403,
    message:
      'This authorization request was started for another signed-in user. Return to the application and start again.',
  },
  consentNotFound: {
    code: 'oauth_consent_not_found',
    status: 404,
    message: 'You have not authorized this client.',
  },
});
