// Exit codes (SPEC §9): one table, used by every command.
export const exitCodes = { ok: 0, error: 1, usage: 2, unauthenticated: 3 } as const;

/** An error a command reports as one line on stderr before exiting with its code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = exitCodes.error,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
