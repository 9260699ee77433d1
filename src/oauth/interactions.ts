// The library's record of a sign-in in progress, as the interaction pages read it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { GatehouseError } from '../core/errors.ts';
import { isDatabaseUnavailable } from '../db/index.ts';
import { oauthErrors } from './errors.ts';

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** The interaction this browser's cookie names, if it is `uid`; else the expired-request error. */
export async function interactionOf(
  provider: Provider,
  request: IncomingMessage,
  response: ServerResponse,
  uid: string,
): Promise<Interaction> {
  try {
    const interaction = await provider.interactionDetails(request, response);
    if (interaction.uid === uid) return interaction;
  } catch (error) {
    if (isDatabaseUnavailable(error)) throw error;
    // No interaction cookie, an expired or unknown interaction: the user must start over.
  }
  throw new GatehouseError(oauthErrors.interactionExpired);
}
