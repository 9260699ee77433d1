// Entry point of the `gatehouse` command (bin/gatehouse.mjs imports it).
import { runCli } from './program.ts';

const isServe = process.argv[2] === 'serve';
const code = await runCli(process.argv.slice(2));
// `serve` keeps running until a signal; every other command exits with its code.
if (!isServe) process.exit(code);
