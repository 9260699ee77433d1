// withTx joins the caller's open transaction or begins one. Every multi-row change and its
// audit event run through it, so nothing is half-written (ARCHITECTURE, convention 5).
import { type Ctx, deriveCtx } from './context.ts';

export async function withTx<T>(ctx: Ctx, fn: (txCtx: Ctx) => Promise<T>): Promise<T> {
  if (ctx.db.isTransaction) return fn(ctx);
  return ctx.db.transaction().execute((trx) => fn(deriveCtx(ctx, { db: trx })));
}
