import { sleep } from '../../../lib/wait';
import type { Progress } from '../../../runtime/progress';
import { emptyStats, type Step, type WorkloadStats } from '../api';
import { generateCommands, type Command, type WorkloadSpec } from './generator';

export type { WorkloadStats } from '../api';

/** What the command stream needs of the `commands` workload's parameters. */
export interface CommandStreamSpec extends WorkloadSpec {
  ratePerSec: number;
  concurrency: number;
}

interface RunnerHooks {
  commandUrl: () => string;
  /** when set, each changed product is read back through query-service right away (fills the cache) */
  queryUrl?: () => string;
  steps: Step[];
  fire: (step: Step) => Promise<void>;
  progress: Progress;
  signal?: AbortSignal;
}

/**
 * Drives command-service with the seeded commands at the configured rate and concurrency, firing timeline steps
 * when their trigger (commands sent / ms elapsed) is reached. A command refused at connect time (the service is
 * restarting) is retried: it was never received. A command cut mid-request (the service crashed while handling
 * it) is not: its outcome is unknown to the client, exactly the case the audit has to settle.
 */
export async function runWorkload(
  spec: CommandStreamSpec,
  seed: number,
  hooks: RunnerHooks,
): Promise<WorkloadStats> {
  const commands = generateCommands(spec, seed);
  const stats: WorkloadStats = emptyStats();
  const pending = [...hooks.steps];
  const t0 = Date.now();
  const intervalMs = 1000 / spec.ratePerSec;
  let next = 0;
  let lastReport = 0;

  const due = async () => {
    for (const step of [...pending]) {
      const at = step.at as { afterCommands?: number; afterMs?: number };
      if (
        (at.afterCommands !== undefined && stats.sent >= at.afterCommands) ||
        (at.afterMs !== undefined && Date.now() - t0 >= at.afterMs)
      ) {
        pending.splice(pending.indexOf(step), 1);
        await hooks.fire(step);
      }
    }
  };

  const worker = async () => {
    for (;;) {
      if (hooks.signal?.aborted) return;
      await due();
      const i = next++;
      if (i >= commands.length) return;
      const wait = t0 + i * intervalMs - Date.now();
      if (wait > 0) await sleep(wait);
      stats.sent++;
      const t = Date.now();
      if (await send(hooks.commandUrl, commands[i], stats)) {
        stats.ok++;
        stats.latenciesMs.push(Date.now() - t);
        if (hooks.queryUrl)
          await fetch(`${hooks.queryUrl()}/products/${commands[i].productId}`, {
            signal: AbortSignal.timeout(5000),
          })
            .then((r) => r.arrayBuffer())
            .catch(() => undefined); // a read-back miss shows in the audit's staleReads
      } else stats.failed++;
      if (Date.now() - lastReport > 2000) {
        lastReport = Date.now();
        const rate = stats.sent / ((Date.now() - t0) / 1000);
        hooks.progress.step(
          `workload ${stats.sent}/${commands.length} (${stats.failed} failed), ETA ${Math.ceil((commands.length - stats.sent) / Math.max(rate, 0.1))} s`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  // Steps timed after the last command still fire (in order), so a timeline never silently shrinks.
  for (const step of pending.splice(0)) await hooks.fire(step);
  return stats;
}

async function send(url: () => string, cmd: Command, stats: WorkloadStats): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(
        cmd.kind === 'create' ? `${url()}/products` : `${url()}/products/${cmd.productId}`,
        {
          method: cmd.kind === 'create' ? 'POST' : 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(cmd.body),
          signal: AbortSignal.timeout(15_000),
        },
      );
      const body = await res.text();
      if (!res.ok && stats.failures.length < 20)
        stats.failures.push({
          seq: cmd.seq,
          kind: cmd.kind,
          productId: cmd.productId,
          error: `HTTP ${res.status} ${body.slice(0, 200)}`,
        });
      return res.ok;
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      if (code === 'ECONNREFUSED' && Date.now() < deadline) {
        stats.retried++;
        await sleep(200);
        continue;
      }
      if (stats.failures.length < 20)
        stats.failures.push({
          seq: cmd.seq,
          kind: cmd.kind,
          productId: cmd.productId,
          error: String(
            (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message,
          ),
        });
      return false;
    }
  }
}
