import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, labPaths } from '../src/lib/config';
import { labPool } from '../src/lib/db';
import { labKafka } from '../src/lib/kafka';
import { ensureMigrated } from '../src/runtime/services';
import { benchCacheLatency, benchStampede } from './cache';
import { benchConsumer } from './consumer';
import { machine, stackFigures } from './env';
import { benchLatency } from './latency';
import {
  createdTopics,
  deleteCreatedTopics,
  log,
  PRODUCT_BASE,
  PRODUCT_SPAN,
  RUN,
  stopRunning,
} from './lib';
import { benchRelay } from './relay';
import { markdown, summary, textTable, type Results } from './report';

/**
 * `npm run bench`: every figure against the running local stack, next to a baseline measured in the same run.
 * BENCH_ONLY=relay,consumer,… runs a subset (and then does not overwrite RESULTS.md); BENCH_QUICK=1 shrinks sizes.
 */
async function main() {
  const c = loadConfig();
  const quick = process.env.BENCH_QUICK === '1';
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const want = (s: string) => !only || only.includes(s);
  const pool = labPool(c, { connectionLimit: 8 });
  const kafka = labKafka(c, `bench-${RUN}`);
  const profDir = path.join(labPaths(c).logs, `bench-${RUN}`);
  fs.mkdirSync(profDir, { recursive: true });
  const t0 = Date.now();
  const r: Results = {
    startedAt: new Date().toISOString(),
    seconds: 0,
    command: 'npm run bench',
    errors: {},
    notes: [
      `load average at start: ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ')} (1/5/15 min) on ${os.cpus().length} cores`,
    ],
  };
  process.once(
    'SIGINT',
    () =>
      void stopRunning(c)
        .then(() => cleanup(pool, kafka))
        .finally(() => process.exit(130)),
  );
  await ensureMigrated(c);

  // Each section stands alone: one failing (say, a broker fault injected by a concurrent experiment) keeps the rest.
  const section = async (name: string, fn: () => Promise<void>) => {
    if (!want(name)) return;
    log(`— ${name}`);
    const before = await activeToxics(c);
    try {
      await fn();
    } catch (e) {
      r.errors[name] = (e as Error).message.split('\n')[0];
      log(`${name} failed: ${r.errors[name]}`);
    }
    // A concurrent experiment may inject faults into the proxies we measure through: say so next to the figures.
    const toxics = [...new Set([...before, ...(await activeToxics(c))])];
    if (toxics.length)
      r.notes.push(
        `${name}: Toxiproxy faults were active at its start or end (${toxics.join(', ')}); its figures include them.`,
      );
  };
  try {
    await section('machine', async () => void (r.machine = await machine(c, pool)));
    await section(
      'relay',
      async () =>
        void (r.relay = await benchRelay(c, kafka, pool, {
          n: quick ? 2000 : 20_000,
          batches: [50, 100, 250, 500],
          polls: [10, 50],
          profDir,
        })),
    );
    const best = r.relay?.best ?? { batch: 100, pollMs: 50 };
    await section(
      'latency',
      async () =>
        void (r.latency = await benchLatency(c, kafka, pool, {
          n: quick ? 40 : 100,
          rate: 5,
          best,
        })),
    );
    await section(
      'consumer',
      async () =>
        void (r.consumer = await benchConsumer(c, kafka, {
          n: quick ? 3000 : 20_000,
          nNaive: quick ? 300 : 800,
          profDir,
        })),
    );
    await section(
      'cache',
      async () =>
        void (r.cache = await benchCacheLatency(c, kafka, pool, quick ? 2000 : 5000, profDir)),
    );
    await section(
      'stampede',
      async () => void (r.stampede = await benchStampede(c, kafka, pool, [100, 1000, 5000])),
    );
    await section('stack', async () => void (r.stack = await stackFigures(c)));
  } finally {
    await stopRunning(c);
    await cleanup(pool, kafka).catch((e) => log(`cleanup: ${(e as Error).message}`));
    await pool.end();
  }
  r.seconds = (Date.now() - t0) / 1000;
  r.notes.push(
    `load average at end: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' / ')}`,
  );
  console.log(`\n${textTable(summary(r))}\n`);
  if (only || quick) log('BENCH_ONLY/BENCH_QUICK: bench/RESULTS.md left as it was');
  else {
    fs.writeFileSync(path.join(c.root, 'bench', 'RESULTS.md'), markdown(r) + '\n');
    log('wrote bench/RESULTS.md');
  }
  // A figure that could not be measured fails the bench, with its reason (also in RESULTS.md's Errors).
  const failed = Object.entries(r.errors);
  for (const [name, why] of failed) log(`not measured: ${name}: ${why}`);
  return failed.length ? 1 : 0;
}

/**
 * Everything is closed by now, so Node should exit by itself. If it does not, something was left open (the 12-07
 * run idled for an hour after RESULTS.md): name what, and fail instead of hanging. Unref'd: it never holds the
 * process itself.
 */
function exitWatchdog(code: number) {
  process.exitCode = code;
  setTimeout(() => {
    log(
      `still running 10 s after the end: open handles ${process.getActiveResourcesInfo().join(', ')}; exiting 1`,
    );
    process.exit(1);
  }, 10_000).unref();
}

/** "proxy/toxic" for every toxic currently set in Toxiproxy. */
async function activeToxics(c: ReturnType<typeof loadConfig>): Promise<string[]> {
  try {
    const res = await fetch(`http://${c.host}:${c.ports.toxiproxy}/proxies`, {
      signal: AbortSignal.timeout(3000),
    });
    const proxies = (await res.json()) as Record<string, { toxics: { name: string }[] }>;
    return Object.entries(proxies).flatMap(([p, v]) => v.toxics.map((t) => `${p}/${t.name}`));
  } catch {
    return [];
  }
}

/** Only what this run wrote: its topics, its groups, its product id range — the tables are shared. */
async function cleanup(pool: ReturnType<typeof labPool>, kafka: ReturnType<typeof labKafka>) {
  const topics = createdTopics.filter((t) => !t.endsWith('.DLQ'));
  if (topics.length) {
    // e2e products got their ids from command-service: find them through the command log before deleting it.
    for (const t of ['product_view', 'product'])
      await pool.query(
        `DELETE FROM ${t} WHERE ${t === 'product' ? 'id' : 'product_id'} IN (SELECT product_id FROM command_log WHERE topic IN (?))`,
        [topics],
      );
    await pool.query('DELETE FROM outbox WHERE topic IN (?)', [topics]);
    await pool.query('DELETE FROM command_log WHERE topic IN (?)', [topics]);
  }
  await pool.query(
    "DELETE FROM processed_event WHERE consumer_group LIKE CONCAT('bench-', ?, '-%')",
    [RUN],
  );
  await pool.query(
    "DELETE FROM side_effect_ledger WHERE consumer_group LIKE CONCAT('bench-', ?, '-%')",
    [RUN],
  );
  await pool.query('DELETE FROM product WHERE id BETWEEN ? AND ?', [
    PRODUCT_BASE,
    PRODUCT_BASE + PRODUCT_SPAN - 1,
  ]);
  await pool.query('DELETE FROM product_view WHERE product_id BETWEEN ? AND ?', [
    PRODUCT_BASE,
    PRODUCT_BASE + PRODUCT_SPAN - 1,
  ]);
  await deleteCreatedTopics(kafka);
}

main().then(exitWatchdog, (e) => {
  console.error(`bench failed: ${(e as Error).stack}`);
  process.exit(1);
});
