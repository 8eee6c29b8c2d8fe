import { z } from 'zod';
import type { RowDataPacket } from 'mysql2/promise';
import { LabError } from '../../lib/errors';
import { waitFor } from '../../lib/wait';
import { type FiredStep, prng, type Step, type WorkloadContext, type WorkloadKind } from './api';
import { auditCommands, COMMAND_AUDIT_FIGURES } from './commands/audit';
import { settle } from './commands/quiescence';

const Params = z
  .object({
    /** products changed twice while the first change's relay batch is held: one chance to reorder each */
    rounds: z.number().int().min(1).max(50),
    /** how long the `hold-claim` step holds a relay batch (the file's failpoint delay), for the report */
    holdMs: z.number().int().min(100).max(60_000),
  })
  .strict();
type Params = z.infer<typeof Params>;

const MOMENT = 'hold-claim';

/** One product's round: which relay held its first change, and the order its two changes were published in. */
export interface Round {
  productId: number;
  heldBy: string;
  /** event ids of the held change and of the change sent while it was held, and when each was marked published */
  held: { eventId: string; version: number; publishedAt: string };
  next: { eventId: string; version: number; publishedAt: string };
}

/**
 * Per-key order (E-011). Every round changes one product twice: the first change's relay batch is held (failpoint
 * `relay.before-publish`, keyed to the product, armed on every relay of the file's `hold-claim` steps; the relay
 * that claims it holds it, the others are disarmed at once), and the second change is sent while it is held.
 * Two relays on one shard (SKIP LOCKED): the other relay claims and publishes the second change first. Relays
 * sharded by product: the second change belongs to the holder and waits. Audited like the command stream, with
 * per-key order (`reordered`) and the read model's regressions (`viewBackwards`).
 */
export const keyOrderScenario: WorkloadKind<typeof Params> = {
  kind: 'key-order',
  summary:
    'two changes of one product while a relay holds the first: the topic order per key, and the read model',
  params: Params,
  figures: [...COMMAND_AUDIT_FIGURES, 'rounds', 'publishedOutOfOrder'],
  facts: ['commandsSent', 'commandsFailed'],
  moments: [MOMENT],
  requiresServices: ['command-service', 'outbox-relay', 'consumer-service'],
  async run(ctx) {
    const p = ctx.params;
    const { rounds, sent, failed } = await holdRounds(ctx, outboxIo(ctx));
    ctx.raise('commandsSent', sent);
    ctx.raise('commandsFailed', failed);
    await settle(ctx);
    return {
      stats: { rounds: rounds.length },
      audit: async () => {
        const result = await auditCommands(
          ctx,
          'command_log, the whole topic in per-key order, the ledger, the read model',
        );
        const outOfOrder = rounds.filter((r) => r.next.publishedAt < r.held.publishedAt);
        return {
          figures: {
            ...result.figures,
            rounds: rounds.length,
            publishedOutOfOrder: outOfOrder.length,
          },
          ids: result.ids,
          sections: [{ title: 'Publish order per product', markdown: table(rounds, p) }],
          data: { rounds },
        };
      },
    };
  },
};

/**
 * The rounds (the workload's run before its settle and audit): the products created, then each changed twice while
 * the relay that claimed its first change holds it. `io` is command-service, the relays' failpoints and the outbox
 * (a fake in the unit tests).
 */
export async function holdRounds(
  ctx: WorkloadContext<Params>,
  io: OutboxIo,
): Promise<{ rounds: Round[]; sent: number; failed: number }> {
  const p = ctx.params;
  const holdSteps = ctx.stepsAt(MOMENT);
  if (!holdSteps.length)
    throw new LabError(
      `${ctx.experiment.id}: no step at { moment: ${MOMENT} }: add a relay.before-publish delay step for each relay`,
    );
  const rand = prng(ctx.seed);
  let sent = 0;
  let failed = 0;
  const command = async (method: 'POST' | 'PUT', path: string, body: object) => {
    sent++;
    if (!(await io.command(method, path, body))) failed++;
  };
  const body = () => ({
    price: Math.round(rand() * 10_000) / 100,
    stock: 1 + Math.floor(rand() * 100),
  });

  const ids = Array.from({ length: p.rounds }, (_, i) => i + 1);
  ctx.note(`creating products ${ids.join(', ')} through command-service`);
  for (const id of ids) await command('POST', '/products', { id, name: `item ${id}`, ...body() });
  await io.waitPublished(undefined, 60_000);

  const rounds: Round[] = [];
  for (const id of ids) {
    ctx.throwIfAborted();
    const armed: { step: Step; fired: FiredStep }[] = [];
    for (const step of holdSteps)
      armed.push({ step, fired: await ctx.fire(step, { key: String(id) }) });
    await command('PUT', `/products/${id}`, body());
    // A counterfactual run recorded the holds without arming them: no relay will hold, nothing to wait for.
    const holder = armed.some((a) => a.fired.applied)
      ? await waitFor(
          `a relay to claim product ${id}'s change and hold it at relay.before-publish`,
          async () => {
            for (const a of armed) if (await io.fired(serviceOf(a.step))) return a;
            return undefined;
          },
          { timeoutMs: 15_000, intervalMs: 20 },
        )
      : undefined;
    // Only the holder holds: the other relays must be free to claim the next change, as they would be.
    for (const a of armed) if (a !== holder) await a.fired.undo();
    await command('PUT', `/products/${id}`, body());
    await io.waitPublished(id, p.holdMs + 30_000);
    await holder?.fired.undo();
    const [held, next] = await io.lastTwo(id);
    const heldBy = holder ? serviceOf(holder.step) : 'no relay (not held)';
    const round: Round = { productId: id, heldBy, held, next };
    rounds.push(round);
    ctx.note(
      `product ${id}: ${round.heldBy} held v${held.version}; v${next.version} published ${next.publishedAt < held.publishedAt ? 'BEFORE' : 'after'} it`,
    );
  }
  return { rounds, sent, failed };
}

const serviceOf = (step: Step) => (step.fault as { service: string }).service;

function table(rounds: Round[], p: Params) {
  return [
    `${rounds.length} round(s): a product's change held ${p.holdMs} ms at relay.before-publish by whichever relay claimed it, a second change sent meanwhile. "marked published" is outbox.published_at (the relay's commit after its send).`,
    '',
    '| product | held by | held change | sent while held | marked published first |',
    '|---|---|---|---|---|',
    ...rounds.map(
      (r) =>
        `| ${r.productId} | ${r.heldBy} | v${r.held.version} | v${r.next.version} | ${r.next.publishedAt < r.held.publishedAt ? `**v${r.next.version}** (out of order)` : `v${r.held.version}`} |`,
    ),
  ].join('\n');
}

export type OutboxIo = ReturnType<typeof outboxIo>;

/** What the workload reads and writes: command-service, the relays' failpoints, the outbox table. */
export function outboxIo(ctx: WorkloadContext<Params>) {
  return {
    async command(method: 'POST' | 'PUT', path: string, body: object): Promise<boolean> {
      const res = await fetch(`${ctx.services.url('command-service')}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      }).catch(() => undefined); // unreachable = a failed command, counted as such by the caller
      return !!res?.ok;
    },
    /** The one-shot failpoint is gone from the relay's armed list once it fired. */
    async fired(service: string): Promise<boolean> {
      return ctx.services.failpoints.fired(service, 'relay.before-publish');
    },
    /** Until no outbox row of the run (of one product, if given) is left unpublished. */
    async waitPublished(productId: number | undefined, timeoutMs: number) {
      await waitFor(
        `the outbox rows of ${productId === undefined ? 'the run' : `product ${productId}`} to be published`,
        async () => {
          const [[row]] = await ctx.pool.query<RowDataPacket[]>(
            `SELECT COUNT(*) AS n FROM outbox WHERE topic = ? AND published_at IS NULL${productId === undefined ? '' : ' AND aggregate_id = ?'}`,
            [ctx.topic, ...(productId === undefined ? [] : [productId])],
          );
          return Number(row.n) === 0;
        },
        { timeoutMs, intervalMs: 25 },
      );
    },
    /** The product's last two changes, oldest first, with when the relay marked each published (µs text, sortable). */
    async lastTwo(productId: number) {
      const [rows] = await ctx.pool.query<RowDataPacket[]>(
        `SELECT o.event_id, c.version, DATE_FORMAT(o.published_at, '%Y-%m-%d %H:%i:%s.%f') AS published_at
           FROM outbox o JOIN command_log c ON c.event_id = o.event_id
          WHERE o.topic = ? AND o.aggregate_id = ? ORDER BY o.id DESC LIMIT 2`,
        [ctx.topic, productId],
      );
      const change = (r: RowDataPacket) => ({
        eventId: String(r.event_id),
        version: Number(r.version),
        publishedAt: String(r.published_at),
      });
      return [change(rows[1]), change(rows[0])] as const;
    },
  };
}
