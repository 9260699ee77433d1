// Command output: JSON on stdout with --json, else a human line. Diagnostics go to stderr.
import type { Command } from 'commander';

export function wantsJson(command: Command): boolean {
  return command.optsWithGlobals<{ json?: boolean }>().json === true;
}

export function printResult(command: Command, data: unknown, human: string): void {
  process.stdout.write(wantsJson(command) ? `${JSON.stringify(data)}\n` : `${human}\n`);
}
