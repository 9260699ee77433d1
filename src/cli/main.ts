// Entry point of the `gatehouse` command (bin/gatehouse.mjs imports it).
import { runCli } from './program.ts';

const outcome = await runCli(process.argv.slice(2));
// `serve` keeps running until a signal; every other command (and a serve that never
// started, e.g. on a usage error) exits with its code.
if (outcome !== 'serving') process.exit(outcome);
