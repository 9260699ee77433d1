// The contract between bench/run.ts and every server it starts: the server listens on a
// loopback port of its choosing, announces it with one `BENCH_READY <url>` line on stdout,
// and stops on SIGTERM/SIGINT or when its parent goes away (stdin closes), so a killed
// harness never leaves a server behind.

export const READY_PREFIX = 'BENCH_READY ';

export function announceReady(url: string): void {
  process.stdout.write(`${READY_PREFIX}${url}\n`);
}

/** Runs stop() once on SIGTERM, SIGINT or end of stdin, then exits. */
export function stopWithParent(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}
