// B-GET: a bare Fastify hello-world GET, the ceiling for any Gatehouse route on this
// machine. No logger, no plugins, no hooks: what Fastify itself costs per request.
import Fastify from 'fastify';
import { announceReady, stopWithParent } from '../lib/child-server.ts';

const app = Fastify({ logger: false });
app.get('/', async () => ({ status: 'ok' }));

const url = await app.listen({ host: '127.0.0.1', port: 0 });
stopWithParent(() => app.close());
announceReady(url);
