import type { Registry } from 'prom-client';
import { dlqTopic } from '../../lib/events';
import { labKafka } from '../../lib/kafka';
import { counter, serviceRegistry } from '../../lib/metrics';
import { ensureTopics } from '../../lib/topics';
import { HttpError, serve, serviceApp, serviceContext } from '../common/app';
import { runService } from '../start';
import { loadReplayConfig } from './config';
import { GroupNotEmptyError, resetOffsets } from './offset-reset';
import { replayDlq } from './replay';

/** replay-worker's metrics, registered in `registry`. */
function replayMetrics(registry: Registry) {
  return {
    runs: counter(registry, 'lab_replay_runs_total', 'Replay requests, by dry-run and result', [
      'dry_run',
      'result',
    ]),
    replayed: counter(
      registry,
      'lab_replay_messages_total',
      'DLQ records re-published to their original topic',
    ),
    resets: counter(
      registry,
      'lab_replay_offset_resets_total',
      'Consumer-group offset resets, by dry-run',
      ['dry_run'],
    ),
  };
}

/** replay-worker: DLQ replay and consumer-group offset resets over HTTP (the same functions tests and the CLI call). */
async function main() {
  const cfg = loadReplayConfig();
  const ctx = serviceContext('replay-worker', serviceRegistry('replay-worker'), async () => ({
    topic: cfg.topic,
    dlq: dlqTopic(cfg.topic),
    busy,
  }));
  const m = replayMetrics(ctx.registry);
  await ensureTopics(labKafka(cfg.lab, 'replay-worker'), [cfg.topic, dlqTopic(cfg.topic)]);
  // One replay at a time: two concurrent replays of the same range would interleave and double every record.
  let busy = false;
  const app = serviceApp(ctx, (a) => {
    a.post('/replay', async (req, res) => {
      if (busy)
        throw new HttpError(
          409,
          'a replay is already running; wait for it (GET /health shows busy)',
        );
      busy = true;
      const dryRun = req.body?.dryRun ?? true;
      try {
        const out = await replayDlq(
          cfg.lab,
          { topic: cfg.topic, maxRate: cfg.maxRate, ...req.body },
          ctx.failpoints,
        );
        m.runs.inc({ dry_run: String(out.dryRun), result: 'ok' });
        m.replayed.inc(out.replayed);
        res.json(out);
      } catch (e) {
        m.runs.inc({ dry_run: String(dryRun), result: 'error' });
        throw e;
      } finally {
        busy = false;
      }
    });
    a.post('/offsets/reset', async (req, res) => {
      const out = await resetOffsets(cfg.lab, { topic: cfg.topic, ...req.body }).catch((e) => {
        throw e instanceof GroupNotEmptyError ? new HttpError(409, e.message) : e;
      });
      m.resets.inc({ dry_run: String(out.dryRun) });
      res.json(out);
    });
  });
  serve(ctx, app, cfg.port, async () => {});
}

runService('replay-worker', main);
