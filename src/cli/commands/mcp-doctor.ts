// `gatehouse mcp doctor URL` (SPEC §4, §9): a client-side check of an MCP server and its
// authorization server, replaying what MCP clients do and reporting each step. HTTP only:
// no database, no GATEHOUSE_* settings. Exit 0 when no step failed, 1 when one did, 2 for
// a bad URL.
import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { CliError, exitCodes } from '../exit-codes.ts';
import { wantsJson } from '../output.ts';
import { readSecret } from '../prompt.ts';

interface McpDoctorOptions {
  token?: string;
}

const HELP_AFTER = `
Steps: challenge (401 with a Bearer challenge naming resource_metadata), resource-metadata
(RFC 9728, canonical resource without trailing slash), auth-server-metadata (RFC 8414 /
OpenID Connect Discovery: issuer, PKCE S256, endpoints), cors (what browser-based clients
may call), registration (registers a public client named "gatehouse mcp doctor" when the
server offers dynamic registration), token-audience (with --token: aud, iss, signature, and
initialize with it). Exit 0 when no step failed (warnings do not fail), 1 when one did.`;

/** The loopback redirect URI to register: a random port, as native clients bind one per run. */
function loopbackRedirectUri(): string {
  return `http://127.0.0.1:${randomInt(49152, 65536)}/callback`;
}

async function tokenFrom(option: string | undefined): Promise<string | undefined> {
  if (option !== '-') return option;
  const token = (await readSecret('Access token: ')).trim();
  if (token === '') throw new CliError('--token -: no token on stdin', exitCodes.usage);
  return token;
}

export function registerMcpDoctor(mcp: Command): void {
  mcp
    .command('doctor')
    .description(
      'check an MCP server the way MCP clients use it: 401 challenge, metadata discovery, CORS, client registration and, with --token, the token’s audience',
    )
    .argument('<url>', 'the MCP server URL, e.g. https://id.example.com/mcp')
    .option(
      '--token <token>',
      'an access token for the server, to check its aud and iss and call initialize with (`-` reads it from stdin; never printed)',
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (url: string, options: McpDoctorOptions, command: Command) => {
      // Loaded when the command runs: the MCP SDK's schemas would slow every other command's start.
      const doctor = await import('../mcp-doctor/index.ts');
      let serverUrl: URL;
      try {
        serverUrl = doctor.parseMcpServerUrl(url);
      } catch (error) {
        if (error instanceof doctor.InvalidServerUrlError) throw new CliError(error.message, exitCodes.usage);
        throw error;
      }
      const token = await tokenFrom(options.token);
      const report = doctor.redactSecret(
        await doctor.runMcpDoctor({
          serverUrl,
          token,
          probe: doctor.createProbe(),
          redirectUri: loopbackRedirectUri(),
          now: () => new Date(),
        }),
        token,
      );
      process.stdout.write(
        wantsJson(command) ? `${JSON.stringify(report)}\n` : doctor.formatHumanReport(report),
      );
      process.exitCode = report.ok ? exitCodes.ok : exitCodes.error;
    });
}
