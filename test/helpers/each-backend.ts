// Runs a suite once per database backend, naming each run `[sqlite]` / `[postgres]` so the
// CI report can prove both tiers ran.
import { after, before, describe } from 'node:test';
import { createTestApp, type TestApp } from './app.ts';
import { backendKinds } from './backends.ts';

export function describeEachBackend(name: string, body: (get: () => TestApp) => void): void {
  for (const kind of backendKinds()) {
    describe(`${name} [${kind}]`, () => {
      let t: TestApp | undefined;
      before(async () => {
        t = await createTestApp(kind);
      });
      after(async () => {
        await t?.close();
      });
      body(() => {
        if (!t) throw new Error('test app not ready');
        return t;
      });
    });
  }
}
