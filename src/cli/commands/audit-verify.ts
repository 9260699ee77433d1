import type { Command } from 'commander';
import type { VerifyResult } from '../../audit/index.ts';
import { CliError, exitCodes } from '../exit-codes.ts';
import { withOperatorServices } from '../operator.ts';
import { wantsJson } from '../output.ts';

interface ChainReport {
  chain: string;
  result: VerifyResult;
}

function describe(report: ChainReport): string {
  const { chain, result } = report;
  if (result.valid) return `ok      ${chain}: ${result.eventsChecked} events verified`;
  const broken = result.firstBroken;
  return `BROKEN  ${chain}: first broken at seq ${broken.seq}${broken.eventId ? ` (event ${broken.eventId})` : ''}: ${broken.reason}`;
}

export function registerAuditVerify(program: Command): void {
  const audit = program.command('audit').description('audit log operations');
  audit
    .command('verify')
    .description(
      'verify the audit hash chains (only the --org organization’s when given) and report the first broken link (exit 1 if any is broken)',
    )
    .action(async (_options: unknown, command: Command) => {
      // --org is the global flag: given, only that organization's chain is verified.
      const orgSlug = command.optsWithGlobals<{ org?: string }>().org;
      const { INSTANCE_CHAIN } = await import('../../audit/index.ts');
      const reports = await withOperatorServices({ requireCurrentSchema: true }, async (services) => {
        const ctx = services.systemContext('cli-audit-verify');
        const chains: { label: string; id: string }[] = [];
        if (orgSlug) {
          const org = await services.tenancy.findOrgBySlug(ctx, orgSlug);
          if (!org) throw new CliError(`--org: no organization "${orgSlug}"`);
          chains.push({ label: org.slug, id: org.id });
        } else {
          for (const org of await services.tenancy.listAllOrgs(ctx))
            chains.push({ label: org.slug, id: org.id });
          chains.push({ label: '(instance)', id: INSTANCE_CHAIN });
        }
        const out: ChainReport[] = [];
        for (const chain of chains)
          out.push({ chain: chain.label, result: await services.audit.verify(ctx, chain.id) });
        return out;
      });
      if (wantsJson(command)) process.stdout.write(`${JSON.stringify(reports)}\n`);
      else for (const report of reports) process.stdout.write(`${describe(report)}\n`);
      if (reports.some((r) => !r.result.valid)) process.exitCode = exitCodes.error;
    });
}
