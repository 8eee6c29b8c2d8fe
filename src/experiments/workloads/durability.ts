import { finished, prng, type WorkloadKind } from './api';
import { DurabilityParams, isLossCandidate, isSafe, sizeFor } from './durability/params';
import { runPhase, type CellResult } from './durability/phase';
import { DURABILITY_MOMENTS } from './durability/cluster';

const FIGURES = [
  'cells',
  'acked',
  'sent',
  'sentMissing',
  'rejected',
  'failed',
  'lost',
  'duplicated',
  'records',
  'safeAcked',
  'safeLost',
  'lossyLost',
  'uncleanElections',
] as const;

/**
 * E-009: acks × min.insync.replicas × unclean leader election under a leader kill or isolation. Every cell is a
 * topic written by its own seeded raw producer; after failover and recovery every topic is read back
 * (read_committed) and each acknowledged sequence number looked for — Jepsen's acked / rejected / lost / duplicated.
 */
export const durabilityMatrix: WorkloadKind<typeof DurabilityParams> = {
  kind: 'durability-matrix',
  summary:
    'acks × min.insync.replicas × unclean election under a leader kill / isolation: acked, rejected, lost, duplicated per cell',
  params: DurabilityParams,
  figures: FIGURES,
  facts: [],
  moments: DURABILITY_MOMENTS,
  async run(ctx) {
    const size = sizeFor(ctx.params, ctx.full);
    // The seed picks the victim and the order of its followers: every cell of the run is led by the same broker.
    const rand = prng(ctx.seed);
    const brokers = [1, 2, 3];
    const leader = brokers.splice(Math.floor(rand() * 3), 1)[0];
    if (rand() < 0.5) brokers.reverse();
    const replicas = [leader, ...brokers];
    const t0 = Date.now();
    const results: CellResult[] = [];
    for (const fault of size.faults) {
      ctx.throwIfAborted();
      results.push(...(await runPhase(ctx, fault, size, replicas, t0)));
    }
    const sum = (f: (r: CellResult) => number, rs = results) => rs.reduce((a, r) => a + f(r), 0);
    const safe = results.filter((r) => isSafe(r.cell));
    const lossy = results.filter((r) => isLossCandidate(r.cell));
    const figures: Record<(typeof FIGURES)[number], number> = {
      cells: results.length,
      acked: sum((r) => r.audit.acked),
      sent: sum((r) => r.audit.sent),
      sentMissing: sum((r) => r.audit.sentMissing),
      rejected: sum((r) => r.audit.rejected),
      failed: sum((r) => r.audit.failed),
      lost: sum((r) => r.audit.lost.length),
      duplicated: sum((r) => r.audit.duplicated.length),
      records: sum((r) => r.audit.records),
      safeAcked: sum((r) => r.audit.acked, safe),
      safeLost: sum((r) => r.audit.lost.length, safe),
      lossyLost: Math.max(0, ...lossy.map((r) => r.audit.lost.length)),
      uncleanElections: results.filter((r) => r.uncleanElection).length,
    };
    ctx.note(
      `audit: ${figures.acked} acked, ${figures.rejected} rejected, ${figures.lost} acknowledged writes lost (${figures.safeLost} in acks=all/min.insync=2 cells)`,
    );
    return finished({
      figures,
      sections: [
        {
          title: `Durability matrix (leader kafka-${leader}, replicas [${replicas.join(',')}], seed ${ctx.seed})`,
          markdown: jepsenTable(results),
        },
      ],
      data: { replicas, size, cells: results },
    });
  },
};

/** config → acked (or sent) / rejected / failed / lost / duplicated, with the lost sequence numbers and their acked offsets. */
export function jepsenTable(results: CellResult[]): string {
  const head =
    '| fault | config | acked | sent, no answer (missing) | rejected | failed (indeterminate) | **lost** | duplicated | unacked but present | leader → after fault (ISR at fault) | lost writes: seq@acked offset |';
  const rows = results.map((r) => {
    const a = r.audit;
    const lost = a.lost.map((l) => `${l.seq}@${l.ackedOffset ?? '?'}`);
    const shown =
      lost.length > 25
        ? `${lost.slice(0, 25).join(', ')} … (+${lost.length - 25})`
        : lost.join(', ');
    const election = `${r.leaderBefore} → ${r.leaderAfter < 0 ? 'offline' : r.leaderAfter}${r.uncleanElection ? (r.cell.unclean ? ' (unclean)' : ' (outside the ISR: ELR)') : ''} ([${r.isrAtFault.join(',')}])`;
    return `| ${r.fault} | ${r.label} | ${a.acked} | ${a.sent ? `${a.sent} (${a.sentMissing})` : '—'} | ${a.rejected} | ${a.failed} | **${a.lost.length}** | ${a.duplicated.length} | ${a.unackedPresent} | ${election} | ${shown || '—'} |`;
  });
  return [
    head,
    `|${'---|'.repeat(11)}`,
    ...rows,
    '',
    'acks=0 writes are `sent`, never `acked`: no broker answers them, so the ones missing after the failover are what acks=0 gives up, not acknowledged writes lost.',
  ].join('\n');
}
