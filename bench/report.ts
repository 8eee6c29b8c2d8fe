import type { CacheResult, StampedeRow } from './cache';
import type { ConsumerResult } from './consumer';
import type { Machine, StackFigures } from './env';
import type { LatencyRun } from './latency';
import { fmt } from './lib';
import type { RelayResult } from './relay';

export interface Results {
  startedAt: string;
  seconds: number;
  command: string;
  machine?: Machine;
  relay?: RelayResult;
  latency?: LatencyRun[];
  consumer?: ConsumerResult;
  cache?: CacheResult;
  stampede?: StampedeRow[];
  stack?: StackFigures;
  errors: Record<string, string>;
  notes: string[];
}

const mark = (ok: boolean) => (ok ? '✅' : '❌');
const pc = (x: number) => `${fmt(100 * x)} %`;
const md = (head: string[], rows: string[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** The headline table: every figure next to its same-run baseline, the ratio and the target. */
export function summary(r: Results): string[][] {
  const rows: string[][] = [];
  const miss = (what: string, key: string) =>
    rows.push([what, `not measured: ${r.errors[key] ?? 'skipped'}`, '', '', '', '']);
  if (r.relay) {
    const b = r.relay.best;
    const raw = r.relay.raw[b.batch];
    const db = r.relay.db[b.batch].eventsPerSec;
    rows.push([
      `outbox-relay, best (batch ${b.batch}, poll ${b.pollMs} ms, pipeline ${b.pipeline ? 'on' : 'off'}) vs its limit`,
      `${fmt(b.eventsPerSec)} ev/s`,
      `min(raw produce, DB claim+mark), batch ${b.batch}: ${fmt(Math.min(raw, db))} ev/s (raw kafkajs ${fmt(raw)}, DB ${fmt(db)})`,
      pc(b.eventsPerSec / Math.min(raw, db)),
      '≥ 75 %',
      mark(b.eventsPerSec >= 0.75 * Math.min(raw, db)),
    ]);
    rows.push([
      'outbox-relay, best, DB → Kafka acks=all idempotent',
      `${fmt(b.eventsPerSec)} ev/s`,
      `raw kafkajs idempotent producer, batch ${b.batch}: ${fmt(raw)} ev/s`,
      pc(b.eventsPerSec / raw),
      '≥ 50 %',
      mark(b.eventsPerSec >= 0.5 * raw),
    ]);
    if (r.relay.perf)
      rows.push([
        'outbox-relay vs the physical limit',
        `${fmt(b.eventsPerSec)} ev/s`,
        `kafka ProducerPerformance (${fmt(r.relay.perf.recordSize)} B records): ${fmt(r.relay.perf.eventsPerSec)} rec/s`,
        pc(b.eventsPerSec / r.relay.perf.eventsPerSec),
        '—',
        '',
      ]);
  } else miss('outbox-relay events/s', 'relay');
  if (r.consumer) {
    const [idem, naive] = r.consumer.runs;
    const [noop, dbWrite] = r.consumer.raw;
    rows.push([
      'idempotent consumer (eachBatch, a transaction per batch)',
      `${fmt(idem.eventsPerSec)} ev/s`,
      `raw eachBatch consumer, same DB write without dedup: ${fmt(dbWrite.eventsPerSec)} ev/s`,
      pc(idem.eventsPerSec / dbWrite.eventsPerSec),
      '≥ 50 % and ≥ 2,000 ev/s',
      mark(idem.eventsPerSec >= 0.5 * dbWrite.eventsPerSec && idem.eventsPerSec >= 2000),
    ]);
    rows.push([
      'idempotent consumer vs the consume limit',
      `${fmt(idem.eventsPerSec)} ev/s`,
      `raw eachBatch consumer doing nothing: ${fmt(noop.eventsPerSec)} ev/s`,
      pc(idem.eventsPerSec / noop.eventsPerSec),
      '—',
      '',
    ]);
    rows.push([
      'naive consumer (per message: a transaction and an offset commit each)',
      `${fmt(naive.eventsPerSec)} ev/s`,
      `idempotent: ${fmt(idem.eventsPerSec)} ev/s`,
      `${fmt(idem.eventsPerSec / naive.eventsPerSec, 1)}× (idempotent / naive)`,
      '—',
      '',
    ]);
  } else miss('idempotent consumer events/s', 'consumer');
  if (r.cache) {
    const { hit, rawGet, miss: m, rawSelect } = r.cache;
    rows.push([
      'query-service cache hit p50 / p99',
      `${fmt(hit.p50, 2)} / ${fmt(hit.p99, 2)} ms`,
      `raw ioredis GET: ${fmt(rawGet.p50, 2)} / ${fmt(rawGet.p99, 2)} ms`,
      `${fmt(hit.p99 / rawGet.p99, 1)}× (p99)`,
      '≤ 3×',
      mark(hit.p99 <= 3 * rawGet.p99),
    ]);
    rows.push([
      'query-service cache miss p50 / p99',
      `${fmt(m.p50, 2)} / ${fmt(m.p99, 2)} ms`,
      `raw SELECT by id: ${fmt(rawSelect.p50, 2)} / ${fmt(rawSelect.p99, 2)} ms`,
      `${fmt(m.p99 / rawSelect.p99, 1)}× (p99)`,
      '—',
      '',
    ]);
  } else miss('cache hit/miss latency', 'cache');
  if (r.stampede) {
    const sf = r.stampede.filter((s) => s.mode === 'singleflight');
    const worst = Math.max(...sf.map((s) => s.dbQueries));
    const none = r.stampede
      .filter((s) => s.mode === 'none')
      .map((s) => `${s.dbQueries} @${fmt(s.concurrency)}`)
      .join(', ');
    rows.push([
      `singleflight DB queries per key per expiry (${sf.map((s) => fmt(s.concurrency)).join(' / ')} readers)`,
      sf.map((s) => s.dbQueries).join(' / '),
      `none: ${none}`,
      `worst ${worst}`,
      '≤ 1 at every level',
      mark(sf.length > 0 && worst <= 1),
    ]);
  } else miss('stampede', 'stampede');
  if (r.latency) {
    const direct = r.latency.find((l) => l.label === 'direct');
    for (const l of r.latency.filter((x) => x !== direct)) {
      const dflt = l.label.includes('default');
      rows.push([
        `e2e accepted → side effect p50 / p99, ${l.label}`,
        `${fmt(l.acceptedP50)} / ${fmt(l.acceptedP99)} ms`,
        direct ? `direct: ${fmt(direct.acceptedP50)} / ${fmt(direct.acceptedP99)} ms` : '',
        direct ? `${fmt(l.acceptedP99 - direct.acceptedP99)} ms more (p99)` : '',
        dflt ? 'p99 ≤ 60 ms' : '—',
        dflt ? mark(l.acceptedP99 <= 60) : '',
      ]);
    }
  } else miss('e2e latency', 'latency');
  if (r.stack) {
    rows.push([
      '`chaos up`, warm (stack running: a no-op check)',
      `${fmt(r.stack.warmUpSeconds, 1)} s`,
      `cold: ${r.stack.cold}`,
      '',
      '—',
      '',
    ]);
    rows.push([
      'stack RSS (sum of `status --json` rssMiB)',
      `${fmt(r.stack.rssMiB)} MiB`,
      '',
      '',
      '—',
      '',
    ]);
  } else miss('chaos up / RSS', 'stack');
  return rows;
}

export const HEAD = ['Figure', 'Measured', 'Baseline (same run)', 'Ratio', 'Target', ''];

export function markdown(r: Results): string {
  const out: string[] = [
    '# Benchmark results',
    '',
    `Produced by \`${r.command}\` on ${r.startedAt} in ${fmt(r.seconds)} s. Every ratio compares figures measured in this same run, on the same stack (all clients go through Toxiproxy, like the services).`,
    '',
  ];
  if (r.machine) {
    const m = r.machine;
    out.push(
      `Machine: ${m.cpus}, ${m.ramGiB} GiB RAM, ${m.os}. Versions: Node ${m.node}, Kafka ${m.kafka} (3 brokers, KRaft), kafkajs ${m.kafkajs}, MariaDB ${m.mariadb}, Redis ${m.redis}.`,
      '',
    );
  }
  out.push(md(HEAD, summary(r)), '');
  if (r.notes.length) out.push('Conditions: ' + r.notes.join(' '), '');
  if (r.relay) {
    out.push(
      `## outbox-relay sweep (${fmt(r.relay.n)} rows bulk-inserted in one transaction, fresh topic per run, time to backlog 0)`,
      '',
    );
    const runs = r.relay.runs;
    out.push(
      md(
        [
          'batch',
          'poll ms',
          'pipeline',
          'relay ev/s',
          'raw kafkajs ev/s (same batch)',
          'DB claim+mark ev/s (same batch)',
          'relay / raw',
          'relay / min(raw, DB)',
        ],
        runs.map((x) => {
          const raw = r.relay?.raw[x.batch] ?? NaN;
          const db = r.relay?.db[x.batch]?.eventsPerSec ?? NaN;
          return [
            String(x.batch),
            String(x.pollMs),
            x.pipeline ? 'on' : 'off',
            fmt(x.eventsPerSec) + (x.valid ? '' : ' (rows wiped by a concurrent run)'),
            fmt(raw),
            fmt(db),
            pc(x.eventsPerSec / raw),
            pc(x.eventsPerSec / Math.min(raw, db)),
          ];
        }),
      ),
      '',
    );
    out.push(
      "The sweep runs the relay's default, `RELAY_PIPELINE=true`: while a batch is in flight to Kafka the relay marks and commits the one before it and claims the one after it; sends stay one at a time, in outbox order (docs/services.md). The last two rows: the sweep's best setting with the pipeline off, then on again. The two limits are measured right before each relay run (the best of those runs is shown): raw kafkajs sends the same messages in the same batches (idempotent, 1 in flight, acks=all); DB claim+mark is the relay's own store (`src/services/outbox-relay/store.ts`) claiming and marking the same rows with no Kafka, one batch at a time.",
      '',
      relayTime(r.relay),
      '',
    );
    out.push(
      `Where the box's CPU went (share of all cores' time, per process) — during the best run's drain: ${r.relay.best.cpu}; while the raw producer sent the same messages: ${r.relay.rawCpu}.`,
      '',
    );
    if (r.relay.profile)
      out.push('CPU profile of the relay at the best setting: ' + r.relay.profile, '');
    if (r.relay.perf)
      out.push(
        `Physical limit: \`${r.relay.perf.command}\` → ${fmt(r.relay.perf.eventsPerSec)} records/s.`,
        '',
      );
  }
  if (r.consumer) {
    const k = r.consumer;
    out.push(
      `## consumer-service (${fmt(k.n)} events pre-produced to one fresh topic, a fresh group per run, from partition assignment to that many committed)`,
      '',
    );
    out.push(
      md(
        [
          'consumer',
          'messages timed',
          'ev/s',
          'messages per DB transaction',
          'mean ms per message',
        ],
        [
          ...k.raw.map((x) => [
            `raw kafkajs eachBatch, ${x.kind === 'no-op' ? 'doing nothing (consume limit)' : 'ledger + read-model write, no dedup (DB limit)'}`,
            fmt(k.n),
            fmt(x.eventsPerSec),
            x.kind === 'no-op' ? '—' : `≤ ${fmt(k.batchSize)}`,
            '',
          ]),
          ...k.runs.map((x) => [
            `consumer-service ${x.mode}`,
            fmt(x.n),
            fmt(x.eventsPerSec),
            fmt(x.meanBatch),
            fmt(x.meanHandleMs, 2),
          ]),
        ],
      ),
      '',
    );
    out.push(
      `Every batch consumer commits its offsets after each chunk of at most ${fmt(k.batchSize)} messages (\`CONSUMER_BATCH_SIZE\`). The idempotent consumer's transaction adds to the DB-limit one a SELECT of the chunk's event ids in processed_event and a multi-row INSERT into it. naive keeps its per-message shape (E-003 depends on it) and is timed over its first ${fmt(k.runs[1].n)} messages only. "mean ms per message" is the service's lab_consumer_process_duration_seconds (idempotent: the time of the batch a message was in).`,
      '',
    );
    if (r.consumer.profile)
      out.push('CPU profile of the idempotent run: ' + r.consumer.profile, '');
  }
  if (r.cache) {
    const c = r.cache;
    out.push('## query-service latency (sequential requests, keep-alive)', '');
    out.push(
      md(
        ['path', 'p50 ms', 'p99 ms'],
        [
          ['query-service GET, cache hit', fmt(c.hit.p50, 3), fmt(c.hit.p99, 3)],
          [
            'bare node:http server + one ioredis GET (in the bench process)',
            fmt(c.bareHttp.p50, 3),
            fmt(c.bareHttp.p99, 3),
          ],
          ['raw ioredis GET', fmt(c.rawGet.p50, 3), fmt(c.rawGet.p99, 3)],
          ['query-service GET, cache miss (STAMPEDE=none)', fmt(c.miss.p50, 3), fmt(c.miss.p99, 3)],
          ['raw SELECT by id (mysql2)', fmt(c.rawSelect.p50, 3), fmt(c.rawSelect.p99, 3)],
        ],
      ),
      '',
    );
    if (c.profile) out.push('CPU profile of query-service during the hit loop: ' + c.profile, '');
  }
  if (r.stampede) {
    out.push(
      '## stampede (one key, DB made slow by the failpoint `query.before-db-load=delay:200`, all readers at once)',
      '',
    );
    out.push(
      md(
        ['mode', 'expiry', 'readers', 'DB queries', 'p50 ms', 'p99 ms', 'errors'],
        r.stampede.map((s) => [
          s.mode,
          s.scenario,
          fmt(s.concurrency),
          String(s.dbQueries),
          fmt(s.p50),
          fmt(s.p99),
          String(s.errors),
        ]),
      ),
      '',
    );
  }
  if (r.latency) {
    out.push('## end-to-end latency (command-service → Kafka → consumer-service ledger row)', '');
    out.push(
      md(
        [
          'mode',
          'events',
          'accepted→applied p50 / p99 ms',
          'sent→applied p50 / p99 ms',
          'accepted→published p50 / p99 ms',
          'published→applied p50 / p99 ms',
          'not applied in 60 s',
        ],
        r.latency.map((l) => [
          l.label,
          String(l.n),
          `${fmt(l.acceptedP50)} / ${fmt(l.acceptedP99)}`,
          `${fmt(l.sentP50)} / ${fmt(l.sentP99)}`,
          `${fmt(l.toPublishedP50 ?? NaN)} / ${fmt(l.toPublishedP99 ?? NaN)}`,
          `${fmt(l.publishedToAppliedP50 ?? NaN)} / ${fmt(l.publishedToAppliedP99 ?? NaN)}`,
          String(l.lost),
        ]),
      ),
      '',
    );
  }
  if (Object.keys(r.errors).length)
    out.push('## Errors', '', ...Object.entries(r.errors).map(([k, v]) => `- ${k}: ${v}`), '');
  return out.join('\n');
}

/** Where a relay batch's time goes: each half alone, their sum (one after the other) and their overlap (pipeline). */
function relayTime(x: RelayResult): string {
  const b = x.best.batch;
  const d = x.db[b];
  const send = (1000 * b) / x.raw[b];
  const serial = d.claimMs + d.markMs + send;
  const rate = (msPerBatch: number) => `${fmt((1000 * b) / msPerBatch)} ev/s`;
  return (
    `Where a batch of ${fmt(b)} goes (means, each half measured alone in this run): DB claim (BEGIN, SELECT … FOR UPDATE SKIP LOCKED, the overlap check) ${fmt(d.claimMs, 1)} ms, mark (UPDATE … WHERE id IN, COMMIT and its fsync) ${fmt(d.markMs, 1)} ms; the send (acks=all) ${fmt(send, 1)} ms. ` +
    `One after the other that is ${fmt(serial, 1)} ms a batch (${rate(serial)}); overlapped, the pipeline's ideal is the longer half, ${fmt(Math.max(d.claimMs + d.markMs, send), 1)} ms (${rate(Math.max(d.claimMs + d.markMs, send))}). ` +
    `The relay took ${fmt((1000 * b) / x.best.eventsPerSec, 1)} ms a batch at its best setting${x.serial ? `, ${fmt((1000 * b) / x.serial.eventsPerSec, 1)} ms with the pipeline off` : ''}. ` +
    // Overlap only helps with idle CPU: on a saturated box each half's CPU time is spent whatever overlaps it.
    `When both halves share a saturated CPU (see "where the box's CPU went"), their costs add up whatever overlaps: 1 / (1/raw + 1/DB) = ${rate(serial)} is then the ceiling, and the relay reached ${pc(x.best.eventsPerSec / ((1000 * b) / serial))} of it.`
  );
}

/** Plain-text table for the terminal. */
export function textTable(rows: string[][]): string {
  const all = [HEAD, ...rows];
  const w = HEAD.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  return all.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ')).join('\n');
}
