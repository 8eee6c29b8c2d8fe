import { z } from 'zod';
import type { RowDataPacket } from 'mysql2/promise';
import { LabError } from '../../lib/errors';
import { sleep, waitFor } from '../../lib/wait';
import {
  finished,
  type Plot,
  prng,
  type Step,
  type WorkloadContext,
  type WorkloadKind,
} from './api';

const Params = z
  .object({
    /** rounds of the DEL race: a reader held between its DB load and its fill while a change commits */
    raceRounds: z.number().int().min(1).max(50),
    /** rounds of the lost invalidation: a cached product changed by a command that crashes after its commit */
    lostRounds: z.number().int().min(0).max(50),
    /** how long the race step holds the reader (the file's failpoint delay), for the report */
    holdMs: z.number().int().min(100).max(60_000),
    /** query-service's CACHE_TTL_MS and CACHE_TTL_JITTER on this run: the bound a stale value must stay within */
    cacheTtlMs: z.number().int().min(100).max(600_000),
    cacheTtlJitter: z.number().min(0).max(0.9),
    /** how often a product is read back after its change, until an answer is fresh */
    pollMs: z.number().int().min(10).max(5000).default(100),
    /** how long a change may take to reach query-service (relay → Kafka → invalidation) before reads are judged */
    propagationMs: z.number().int().min(100).max(60_000).default(3000),
  })
  .strict();
type Params = z.infer<typeof Params>;

export const STALE_CACHE_FIGURES = [
  'rounds',
  'raceRounds',
  'lostRounds',
  'racesOpened',
  'staleProducts',
  'staleByRace',
  'staleByLostInvalidation',
  'staleAnswers',
  'invalidationsMissing',
  'maxStaleServedMs',
  'ttlBoundMs',
  'neverFresh',
  'maxTimeToFreshMs',
] as const;

/** Products this workload changes: ids 1…n (an experiment's ids stay below 1,000,000, which each run resets). */
const MECHANISMS = ['race', 'lost-invalidation'] as const;
type Mechanism = (typeof MECHANISMS)[number];

interface Answer {
  /** ms since the workload started: when the request was sent and when its answer arrived */
  sentMs: number;
  answeredMs: number;
  version: number;
  source: string;
}

/** One product's round: what it was changed to, and everything query-service answered for it afterwards. */
interface Round {
  mechanism: Mechanism;
  productId: number;
  /** the version the DB holds after the change (read from the DB: the command's own answer may be lost) */
  committed: number;
  /** when the (possibly stale) value was put in the cache: the answer of the read that filled it */
  filledMs: number;
  committedMs: number;
  /** query-service announced the committed version (its change event arrived) within propagationMs */
  announced: boolean;
  /** race: the announcement came while the reader was still held, so its fill came after the DEL/bump */
  windowOpened: boolean;
  answers: Answer[];
}

const stale = (r: Round) => r.answers.filter((a) => a.version < r.committed);

/**
 * Stale cache (E-010). Each round changes one product in a way that leaves the cache stale unless the pattern holds:
 *  - race: a reader misses, loads version N and is held (failpoint `query.after-db-load-before-fill`, keyed to the
 *    product) while a change commits N+1 and its event invalidates; then the reader fills. `del` caches N until the
 *    TTL; `versioned` refuses the older fill.
 *  - lost invalidation: a cached product is changed by a command that crashes right after its commit (the E-002
 *    mechanism): direct produce never emits the event, so nothing invalidates; the outbox still publishes it.
 * After each change the product is read every pollMs until an answer is fresh: stale answers are counted per
 * product, with how long the stale value was served, judged against TTL × (1 + jitter).
 */
export const staleCacheScenario: WorkloadKind<typeof Params> = {
  kind: 'stale-cache',
  summary:
    'a reader held across a change (DEL race) and a change whose event is lost: stale answers per product, and for how long',
  params: Params,
  figures: STALE_CACHE_FIGURES,
  facts: ['commandsSent', 'commandsFailed'],
  moments: MECHANISMS,
  requiresServices: ['command-service', 'query-service'],
  async run(ctx) {
    const p = ctx.params;
    const stepAt = (moment: Mechanism, rounds: number): Step => {
      const step = ctx.stepsAt(moment)[0];
      if (!step && rounds > 0)
        throw new LabError(
          `${ctx.experiment.id}: ${rounds} ${moment} round(s) but no step at { moment: ${moment} } in method: add the failpoint step that opens it`,
        );
      return step as Step; // only fired when its rounds > 0, where it was found
    };
    const raceStep = stepAt('race', p.raceRounds);
    const lostStep = stepAt('lost-invalidation', p.lostRounds);
    const t0 = Date.now();
    const clock = () => Date.now() - t0;
    const rand = prng(ctx.seed);
    const io = serviceIo(ctx, clock);
    let sent = 0;
    let failed = 0;

    const ids = Array.from({ length: p.raceRounds + p.lostRounds }, (_, i) => i + 1);
    ctx.note(`creating products ${ids.join(', ')} through command-service`);
    for (const id of ids) {
      sent++;
      const body = { id, name: `item ${id}`, price: Math.round(rand() * 10_000) / 100, stock: 10 };
      if (!(await io.command('POST', '/products', body)).ok) failed++;
    }
    for (const id of ids) await io.waitAnnounced(id, 1, 60_000, true);

    const rounds: Round[] = [];
    const change = async (id: number) => {
      sent++;
      const body = {
        price: Math.round(rand() * 10_000) / 100,
        stock: 1 + Math.floor(rand() * 100),
      };
      const ok = (await io.command('PUT', `/products/${id}`, body)).ok;
      if (!ok) failed++;
      return { committed: await io.dbVersion(id), committedMs: clock() };
    };

    for (const id of ids.slice(0, p.raceRounds)) {
      ctx.throwIfAborted();
      ctx.note(`race round on product ${id}`);
      const held = await ctx.fire(raceStep, { key: String(id) });
      const reader = io.read(id);
      // a counterfactual run recorded the hold without arming it: no reader is held, nothing to wait for
      if (held.applied)
        await waitFor(
          `query-service to hold the reader of product ${id} at query.after-db-load-before-fill`,
          () => io.failpointFired('query-service', 'query.after-db-load-before-fill'),
          { timeoutMs: 15_000, intervalMs: 20 },
        );
      const { committed, committedMs } = await change(id);
      const announced = await io.waitAnnounced(id, committed, p.propagationMs);
      const filled = await reader;
      // The window opened only if the event was handled before the held reader filled the cache.
      const windowOpened = announced !== undefined && announced < filled.answeredMs;
      ctx.note(
        `race on product ${id}: reader loaded v${filled.version}, v${committed} committed${windowOpened ? ' and announced while it was held' : '; the announcement did not come while the reader was held'}`,
      );
      await held.undo();
      rounds.push({
        mechanism: 'race',
        productId: id,
        committed,
        filledMs: filled.answeredMs,
        committedMs,
        announced: announced !== undefined,
        windowOpened,
        answers: await io.readUntilFresh(id, committed, filled.answeredMs),
      });
    }

    for (const id of ids.slice(p.raceRounds)) {
      ctx.throwIfAborted();
      ctx.note(`lost-invalidation round on product ${id}`);
      const filled = await io.read(id);
      const crash = await ctx.fire(lostStep);
      const { committed, committedMs } = await change(id);
      await io.waitHealthy('command-service');
      const announced = await io.waitAnnounced(id, committed, p.propagationMs);
      ctx.note(
        `lost-invalidation on product ${id}: v${filled.version} cached, v${committed} committed, ${announced !== undefined ? 'its event arrived' : `no event within ${p.propagationMs} ms`}`,
      );
      await crash.undo();
      rounds.push({
        mechanism: 'lost-invalidation',
        productId: id,
        committed,
        filledMs: filled.answeredMs,
        committedMs,
        announced: announced !== undefined,
        windowOpened: false,
        answers: await io.readUntilFresh(id, committed, filled.answeredMs),
      });
    }
    ctx.raise('commandsSent', sent);
    ctx.raise('commandsFailed', failed);
    return finished(outcome(rounds, p, clock));
  },
};

/** What the workload reads and writes through the run's services and database. */
function serviceIo(c: WorkloadContext<Params>, now: () => number) {
  const p = c.params;
  const query = () => c.services.url('query-service');
  const read = async (id: number): Promise<Answer> => {
    const sentMs = now();
    const res = await fetch(`${query()}/products/${id}`, { signal: AbortSignal.timeout(60_000) });
    if (!res.ok)
      throw new LabError(
        `query-service answered HTTP ${res.status} for product ${id}: ${await res.text()}; see .lab/logs/query-service.log`,
      );
    const body = (await res.json()) as { version: number; source: string };
    return { sentMs, answeredMs: now(), version: Number(body.version), source: body.source };
  };
  return {
    read,
    async command(method: 'POST' | 'PUT', path: string, body: object) {
      // A crash failpoint kills command-service mid-request: the request fails, the change is committed.
      return fetch(`${c.services.url('command-service')}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      }).catch((err: Error) => ({ ok: false, status: 0, error: err.message }));
    },
    async dbVersion(id: number): Promise<number> {
      const [rows] = await c.pool.query<RowDataPacket[]>(
        'SELECT version FROM product WHERE id = ?',
        [id],
      );
      if (!rows.length) throw new LabError(`product ${id} is not in the database`);
      return Number(rows[0].version);
    },
    /** When (ms) query-service had handled the event of `version`, or undefined after `timeoutMs`. */
    async waitAnnounced(id: number, version: number, timeoutMs: number, must = false) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await fetch(`${query()}/cache/announced/${id}`, {
          signal: AbortSignal.timeout(5000),
        }).catch(() => undefined); // a poll until the deadline: unanswered = not announced yet
        const known = res?.ok
          ? ((await res.json()) as { announcedVersion: number | null }).announcedVersion
          : null;
        if (known !== null && known >= version) return now();
        if (Date.now() > deadline) {
          if (must)
            throw new LabError(
              `query-service never saw the event of product ${id} v${version} within ${timeoutMs} ms: its invalidation consumer is not consuming (see .lab/logs/query-service.log)`,
            );
          return undefined;
        }
        await sleep(20);
      }
    },
    async failpointFired(service: string, name: string) {
      return c.services.failpoints.fired(service, name); // a one-shot failpoint disarms itself when it fires
    },
    async waitHealthy(service: string) {
      await waitFor(
        `${service} to answer /health again after its crash`,
        async () =>
          (
            await fetch(`${c.services.url(service)}/health`, {
              signal: AbortSignal.timeout(1000),
            })
          ).ok,
        { timeoutMs: 60_000, intervalMs: 100 },
      );
    },
    /**
     * Reads `id` every pollMs until an answer is fresh (version ≥ committed), or until the stale value must have
     * expired — fill + TTL × (1 + jitter) — plus two seconds: an answer still stale then is `neverFresh`.
     */
    async readUntilFresh(id: number, committed: number, filledMs: number) {
      const deadline = filledMs + ttlBound(p) + 2000;
      const answers: Answer[] = [];
      for (;;) {
        const a = await read(id);
        answers.push(a);
        if (a.version >= committed || now() > deadline) return answers;
        await sleep(p.pollMs);
      }
    },
  };
}

const ttlBound = (p: Pick<Params, 'cacheTtlMs' | 'cacheTtlJitter'>) =>
  Math.round(p.cacheTtlMs * (1 + p.cacheTtlJitter));

function outcome(rounds: Round[], p: Params, clock: () => number) {
  const staleRounds = rounds.filter((r) => stale(r).length > 0);
  // From the fill to the last stale answer's request: the stale value was still in Redis when that request read
  // it, so this never exceeds its TTL — the bound the probe judges.
  const servedMs = (r: Round) => {
    const s = stale(r);
    return s.length ? s[s.length - 1].sentMs - r.filledMs : 0;
  };
  const freshMs = (r: Round) => {
    const fresh = r.answers.find((a) => a.version >= r.committed);
    return fresh ? fresh.answeredMs - r.committedMs : NaN;
  };
  const figures: Record<string, number> = {
    rounds: rounds.length,
    raceRounds: p.raceRounds,
    lostRounds: p.lostRounds,
    racesOpened: rounds.filter((r) => r.windowOpened).length,
    staleProducts: staleRounds.length,
    staleByRace: staleRounds.filter((r) => r.mechanism === 'race').length,
    staleByLostInvalidation: staleRounds.filter((r) => r.mechanism === 'lost-invalidation').length,
    staleAnswers: rounds.reduce((n, r) => n + stale(r).length, 0),
    invalidationsMissing: rounds.filter((r) => !r.announced).length,
    maxStaleServedMs: Math.max(0, ...rounds.map(servedMs)),
    ttlBoundMs: ttlBound(p),
    neverFresh: rounds.filter((r) => r.answers[r.answers.length - 1].version < r.committed).length,
    maxTimeToFreshMs: Math.max(0, ...rounds.map(freshMs).filter(Number.isFinite)),
  };
  const table = [
    `${p.raceRounds} race round(s) (reader held ${p.holdMs} ms between its DB load and its fill) and ${p.lostRounds} lost-invalidation round(s); ` +
      `each product read every ${p.pollMs} ms after its change until fresh. TTL ${p.cacheTtlMs} ms × (1 + ${p.cacheTtlJitter}) = ${ttlBound(p)} ms.`,
    '',
    '| product | mechanism | committed | served (stale) | stale answers | stale served for (ms) | fresh after commit (ms) | event reached query-service |',
    '|---|---|---|---|---|---|---|---|',
    ...rounds.map((r) => {
      const s = stale(r);
      const versions = [...new Set(s.map((a) => `v${a.version}`))].join(', ') || '—';
      const fresh = freshMs(r);
      return `| ${r.productId} | ${r.mechanism} | v${r.committed} | ${versions} | ${s.length} | ${s.length ? servedMs(r) : '—'} | ${Number.isFinite(fresh) ? fresh : 'never'} | ${r.announced ? 'yes' : '**no**'} |`;
    }),
  ].join('\n');
  const plots: Plot[] = [
    {
      title: 'Version served minus version committed, per read after each change (0 = fresh)',
      unit: 'versions',
      series: rounds.map((r) => ({
        name: `product ${r.productId} (${r.mechanism})`,
        points: r.answers.map((a): [number, number] => [
          Number((a.sentMs / 1000).toFixed(3)),
          a.version - r.committed,
        ]),
      })),
    },
  ];
  return {
    figures,
    ids: {
      lostBeforeTopic: [],
      notApplied: [],
      duplicateEffects: [],
      topicDuplicates: [],
      staleReads: staleRounds.map((r) => ({
        productId: r.productId,
        served: Math.min(...stale(r).map((a) => a.version)),
        committed: r.committed,
      })),
    },
    sections: [{ title: 'Stale answers per product', markdown: table }],
    plots,
    data: {
      seconds: clock() / 1000,
      rounds: rounds.map((r) => ({ ...r, staleAnswers: stale(r).length })),
    },
  };
}
