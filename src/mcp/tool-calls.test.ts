// Reading the tools a JSON-RPC body calls, before the SDK does: single messages and batches,
// and nothing from messages that are not tools/call requests with a string name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calledToolNames } from './tool-calls.ts';

const call = (name: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name } });

describe('called tool names', () => {
  it('reads a single tools/call and every one in a batch, in order', () => {
    assert.deepEqual(calledToolNames(call('whoami')), ['whoami']);
    assert.deepEqual(
      calledToolNames([call('list_orgs'), { jsonrpc: '2.0', id: 2, method: 'tools/list' }, call('whoami')]),
      ['list_orgs', 'whoami'],
    );
  });

  it('ignores other methods, notifications, malformed messages and non-string names', () => {
    for (const body of [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { name: 'whoami' } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { method: 'tools/call' },
      { method: 'tools/call', params: null },
      call(42),
      null,
      'tools/call',
      [null, 7, [call('nested')]],
    ])
      assert.deepEqual(calledToolNames(body), [], JSON.stringify(body));
  });
});
