import { z } from 'zod';
import { LabError } from '../../../lib/errors';
import type { WorkloadKind } from '../api';
import { auditCommands, COMMAND_AUDIT_FIGURES } from './audit';
import { runWorkload, type CommandStreamSpec } from './driver';
import { settle } from './quiescence';

export { COMMAND_AUDIT_FIGURES } from './audit';
export { settle } from './quiescence';

const Params = z
  .object({
    commands: z.number().int().min(1).max(100_000),
    products: z.number().int().min(1).max(10_000),
    ratePerSec: z.number().positive().max(5000).default(50),
    /** concurrent in-flight commands */
    concurrency: z.number().int().min(1).max(64).default(1),
    payloadBytes: z.number().int().min(0).max(65536).default(16),
    /** read each changed product through query-service during the run (filling the cache), and every product after
     *  quiescence, compared with the DB */
    readBack: z.boolean().default(false),
  })
  .strict();
type Params = z.infer<typeof Params>;

/**
 * The seeded command stream (E-001…E-006): commands to command-service at a rate, steps fired after N commands or
 * ms, then quiescence (outbox drained, groups caught up) and the `quiescence` steps; audited against command_log,
 * the whole topic read back, the side-effect ledger and the read model.
 */
export const commandStream: WorkloadKind<typeof Params> = {
  kind: 'commands',
  summary:
    'seeded commands to command-service; audited against command_log, the topic, the ledger and the read model',
  params: Params,
  figures: COMMAND_AUDIT_FIGURES,
  facts: ['commandsSent', 'commandsFailed'],
  requiresServices: ['command-service'],
  async run(ctx) {
    const params = ctx.params as Params & CommandStreamSpec;
    const stats = await runWorkload(params, ctx.seed, {
      commandUrl: () => ctx.services.url('command-service'),
      queryUrl: params.readBack ? () => ctx.services.url('query-service') : undefined,
      steps: ctx.steps.filter((s) => typeof s.at === 'object' && !('moment' in s.at)),
      fire: async (step) => void (await ctx.fire(step)),
      progress: ctx.progress,
      signal: ctx.signal,
    });
    ctx.raise('commandsSent', stats.sent);
    ctx.raise('commandsFailed', stats.failed);
    ctx.note(`workload done: ${stats.ok}/${stats.sent} commands accepted, ${stats.failed} failed`);
    await settle(ctx);
    for (const step of ctx.steps.filter((s) => s.at === 'quiescence')) {
      await ctx.fire(step);
      await settle(ctx);
    }
    const readBack = params.readBack
      ? await readThroughQueryService(ctx.services.url('query-service'), params.products)
      : undefined;
    return {
      stats: { ...stats },
      audit: () =>
        auditCommands(
          ctx,
          'reading command_log, the whole topic and DLQ, the ledger and the read model',
          readBack,
        ),
    };
  },
};

/** The final read-back could not read a product: the run cannot say whether what it served was stale. */
export class ReadBackError extends LabError {
  constructor(productId: number, url: string, reason: string, cause?: unknown) {
    super(
      `the read-back of product ${productId} through query-service (${url}) failed: ${reason}. Without that read the run ` +
        'cannot judge staleReads; check `chaos services status` and .lab/logs/query-service.log, then run it again',
      { cause },
    );
  }
}

/**
 * Every product once through query-service, after quiescence: what `staleReads` judges. A 404 is a read (it served
 * "no such product": version 0, stale when the database has one); anything else that is not an answer aborts the
 * run — a skipped read would be counted as a fresh one.
 */
export async function readThroughQueryService(
  url: string,
  products: number,
): Promise<{ productId: number; version: number }[]> {
  const out: { productId: number; version: number }[] = [];
  for (let id = 1; id <= products; id++) {
    const res = await fetch(`${url}/products/${id}`, { signal: AbortSignal.timeout(5000) }).catch(
      (err: unknown) => {
        throw new ReadBackError(id, url, (err as Error).message, err);
      },
    );
    if (res.status === 404) {
      out.push({ productId: id, version: 0 });
      continue;
    }
    if (!res.ok) throw new ReadBackError(id, url, `HTTP ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { version?: number; product?: { version?: number } };
    const version = Number(body.version ?? body.product?.version);
    if (!Number.isInteger(version))
      throw new ReadBackError(id, url, `the answer has no version: ${JSON.stringify(body)}`);
    out.push({ productId: id, version });
  }
  return out;
}
