// The CLI's client registration at each authorization server (RFC 7591): made on first use,
// kept in the config file by issuer, and made again when the server no longer knows it (its
// database was reset, or an admin removed the client).
import type { Configuration } from 'openid-client';
import { tell } from '../output.ts';
import type { ConfigStore } from './config-file.ts';
import { connectClient, type GatehouseServer, registerCli, registrationStands } from './oauth.ts';

/** The kept client id, or a new registration when there is none or `stale` is the kept one. */
async function clientIdFor(store: ConfigStore, server: GatehouseServer, stale?: string): Promise<string> {
  const known = store.read().clients[server.issuer]?.client_id;
  if (known !== undefined && known !== stale) return known;
  return store.update(async (config) => {
    // Another process may have registered meanwhile.
    const again = config.clients[server.issuer]?.client_id;
    if (again !== undefined && again !== stale) return { result: again };
    const clientId = await registerCli(server);
    const clients = {
      ...config.clients,
      [server.issuer]: { client_id: clientId, registered_at: new Date().toISOString() },
    };
    return { config: { ...config, clients }, result: clientId };
  });
}

/** The openid-client configuration of a registration the server knows. */
export async function registeredClient(store: ConfigStore, server: GatehouseServer): Promise<Configuration> {
  const clientId = await clientIdFor(store, server);
  const configuration = await connectClient(server, clientId);
  if (await registrationStands(configuration, server)) return configuration;
  tell(`${server.url} no longer knows this CLI's registration; registering again.`);
  return connectClient(server, await clientIdFor(store, server, clientId));
}
