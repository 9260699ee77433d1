// Gatehouse as the benchmarks run it: the real startServer() (config → database →
// services → app → listen) with the GATEHOUSE_* variables the harness sets, on a loopback
// port of its own choosing, announced to the harness on stdout.
import { startServer } from '../src/main.ts';
import { announceReady, stopWithParent } from './lib/child-server.ts';

const server = await startServer({ ...process.env, GATEHOUSE_HOST: '127.0.0.1', GATEHOUSE_PORT: '0' });
stopWithParent(() => server.stop());
announceReady(server.url);
