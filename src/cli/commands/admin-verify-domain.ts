// `gatehouse admin verify-domain DOMAIN` (SPEC §3): the instance operator asserts that an
// org's claimed email domain is theirs, for installs that cannot reach DNS. Audited in the
// org's log as verified by the operator.
import type { Command } from 'commander';
import { isGatehouseError } from '../../core/errors.ts';
import { CliError, exitCodes } from '../exit-codes.ts';
import { withOperatorServices } from '../operator.ts';
import { printResult } from '../output.ts';

export function registerAdminVerifyDomain(admin: Command): void {
  admin
    .command('verify-domain')
    .description(
      'mark DOMAIN, already claimed by an organization in /v1/orgs/:org/sso/domains, as verified without a DNS record (air-gapped installs)',
    )
    .argument('<domain>', 'the claimed email domain, e.g. corp.example')
    .action(async (domain: string, _options: unknown, command: Command) => {
      const verified = await withOperatorServices({ requireCurrentSchema: true }, async (services) => {
        try {
          return await services.sso.verifyDomainByOperator(
            services.systemContext('cli-verify-domain'),
            domain,
          );
        } catch (error) {
          if (isGatehouseError(error) && error.status < 500)
            throw new CliError(`${domain}: ${error.message}`, exitCodes.error);
          throw error;
        }
      });
      printResult(
        command,
        {
          domain: verified.domain,
          id: verified.id,
          verified: verified.verified,
          verified_by: verified.verified_by,
        },
        `${verified.domain} is verified (${verified.verified_by === 'operator' ? 'by the operator' : 'by DNS'})`,
      );
    });
}
