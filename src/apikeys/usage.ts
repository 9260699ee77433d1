// last_used_at without a write per request (SPEC §2): each node remembers the latest use
// of every key in memory and main.ts flushes the batch on a timer and at shutdown.

export interface UsageBatch {
  record(keyId: string, at: number): void;
  /** The use recorded here and not yet written, so reads on this node are not behind. */
  pending(keyId: string): number | undefined;
  /** Takes the batch to write; recorded uses after this call go into the next one. */
  take(): Map<string, number>;
  /** Puts a batch back after a failed write, keeping the later of two times. */
  restore(batch: ReadonlyMap<string, number>): void;
}

export function createUsageBatch(): UsageBatch {
  let current = new Map<string, number>();
  return {
    record(keyId, at) {
      current.set(keyId, at);
    },
    pending: (keyId) => current.get(keyId),
    take() {
      const batch = current;
      current = new Map();
      return batch;
    },
    restore(batch) {
      for (const [keyId, at] of batch) {
        const later = current.get(keyId);
        if (later === undefined || later < at) current.set(keyId, at);
      }
    },
  };
}
