// `gatehouse keys rotate` (SPEC §9): rotates the keys Gatehouse signs with, beside running
// servers: on PostgreSQL every node picks up the new set at once (LISTEN/NOTIFY); a SQLite
// server, whose notifications stay in its own process, within the hour (its scheduled check). Today that is the OAuth authorization
// server's signing keys: the `next` key becomes current, a new `next` is made, and the key
// retired stays published for a day so no token it signed breaks.
import type { Command } from 'commander';
import { withOperatorServices } from '../operator.ts';
import { wantsJson } from '../output.ts';

export function registerKeysRotate(keys: Command): void {
  keys
    .command('rotate')
    .description(
      'rotate the OAuth signing keys: the next key signs from now on, the retired one stays published for a day',
    )
    .action(async (_options: unknown, command: Command) => {
      const rotated = await withOperatorServices({ requireCurrentSchema: true }, (services) =>
        services.oauth.rotateSigningKeys(services.systemContext('cli-keys-rotate')),
      );
      if (wantsJson(command)) {
        process.stdout.write(`${JSON.stringify({ oauth_signing_keys: rotated })}\n`);
        return;
      }
      process.stdout.write(
        `rotated OAuth signing keys: ${rotated.current} signs now (was ${rotated.retired}, published until its tokens expire); next is ${rotated.next}\n`,
      );
    });
}
