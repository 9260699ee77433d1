// `npm run bench -- auth`: what it costs Gatehouse to know who is calling.
//   G-healthz  GET /healthz, no credential: the plumbing every request pays   vs B-GET
//   G-me       GET /v1/me with a session cookie: session + user + orgs         vs B-SQL
//   G-members  GET /v1/orgs/bench/members?limit=20 as the admin: session, the
//              live role lookup, and one page of 20 members                   vs B-SQL
import {
  addMembers,
  BENCH_ORG,
  baselineTargets,
  startGatehouse,
  startHelloBaseline,
  startSqlBaseline,
} from '../lib/gatehouse.ts';
import type { Suite, Target } from '../lib/suite.ts';

/** More members than one page, so the list returns a full page of 20. */
const EXTRA_MEMBERS = 24;

export const authSuite: Suite = {
  name: 'auth',
  description: 'session authentication on /v1 against bare Fastify and one indexed SELECT',
  async prepare({ db, log, gatehouseNodeArgs }) {
    const [hello, sqlBase] = await Promise.all([startHelloBaseline(), startSqlBaseline(db)]);
    log(`B-GET at ${hello.url} (pid ${hello.pid}), B-SQL at ${sqlBase.url} (pid ${sqlBase.pid})`);
    const { server, admin } = await startGatehouse(db, { nodeArgs: gatehouseNodeArgs });
    log(`Gatehouse at ${server.url} (pid ${server.pid}); signed in as the bench admin through /login`);
    await addMembers(server.url, admin, BENCH_ORG, EXTRA_MEMBERS);
    log(`added ${EXTRA_MEMBERS} members to org "${BENCH_ORG}" through POST /v1/orgs/${BENCH_ORG}/members`);
    const session = { Cookie: admin.cookieHeader };
    const targets: Target[] = [
      ...baselineTargets(hello, sqlBase),
      {
        id: 'G-healthz',
        label: 'GET /healthz',
        url: `${server.url}/healthz`,
        headers: {},
        pid: server.pid,
        baseline: 'B-GET',
      },
      {
        id: 'G-me',
        label: 'GET /v1/me (session cookie)',
        url: `${server.url}/v1/me`,
        headers: session,
        pid: server.pid,
        baseline: 'B-SQL',
      },
      {
        id: 'G-members',
        label: `GET /v1/orgs/${BENCH_ORG}/members?limit=20`,
        url: `${server.url}/v1/orgs/${BENCH_ORG}/members?limit=20`,
        headers: session,
        pid: server.pid,
        baseline: 'B-SQL',
      },
    ];
    return { targets };
  },
};
