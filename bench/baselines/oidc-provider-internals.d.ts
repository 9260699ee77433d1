// Types for the two modules of oidc-provider that B-OP (oidc-provider.ts) imports by path:
// the library's default in-memory adapter and the LRU it stores into.
declare module 'oidc-provider/lib/helpers/lru.js' {
  export default class LRU {
    constructor(options: { maxSize: number });
  }
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  import type LRU from 'oidc-provider/lib/helpers/lru.js';
  export default class MemoryAdapter {
    constructor(model: string, store?: LRU, clockTolerance?: number);
  }
}
