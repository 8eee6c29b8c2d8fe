import type { LabConfig } from '../lib/config';
import { ComponentStartError } from '../lib/errors';
import { runPort, type RunPort } from '../runtime/run-port';
import { SERVICE_NAMES, startService, stopService } from '../runtime/services';
import { supervisorFor } from '../runtime/stack';
import type { Experiment, Step } from './schema';
import type { FactName } from './facts';

/** Cache keys an experiment's query-services use (and the engine may flush): tests and benches use others. */
export const EXP_CACHE_PREFIX = 'lab:query:exp:';

/**
 * Starts the experiment's services and, like an orchestrator, restarts any that dies (a crash failpoint fired):
 * each death is a fact of the run, and a failpoint with `repeat` is armed again in the new process.
 */
export class ServiceWatcher {
  private urls = new Map<string, string>();
  private envOverrides = new Map<string, Record<string, string>>();
  private rearm = new Map<
    string,
    { fault: Extract<Step['fault'], { type: 'failpoint' }>; left: number }[]
  >();
  private timer?: NodeJS.Timeout;
  private busy = false;
  /** starts in flight: the crash watcher leaves services alone while any is starting */
  private starting = 0;
  private counted = new Set<number>();
  private expectedDown = new Set<string>();
  private crashes = 0;

  constructor(
    private c: LabConfig,
    private e: Experiment,
    private run: { topic: string; consumerGroup: string; runId: string },
    private note: (w: string, d?: Record<string, unknown>) => void,
    private raise: (fact: FactName, by?: number) => void,
  ) {}

  /** What the engine, workloads and faults may do with the services; `replay` replays the run's DLQ. */
  port(replay: RunPort['replay']): RunPort {
    return runPort({
      url: (service) => this.url(service),
      start: (service, env) => this.start(service, env, true),
      stop: (service) => this.stop(service),
      stopped: (service) => this.stopped(service),
      replay,
    });
  }

  url(service: string): string {
    const u = this.urls.get(service);
    if (!u) throw new Error(`${service} is not part of this experiment`);
    return u;
  }

  running(service: string): boolean {
    return supervisorFor(this.c).isAlive(service);
  }

  /** Deliberately stopped by a step (not crashed): nothing to wait for from it. */
  stopped(service: string): boolean {
    return this.expectedDown.has(service) && !this.running(service);
  }

  /** In parallel: each start is mostly waiting for a Node process to boot and its consumer group to form. */
  async startAll() {
    await Promise.all(SERVICE_NAMES.filter((s) => s in this.e.services).map((s) => this.start(s)));
  }

  /** `armAtBoot`: failpoints armed through LAB_FAILPOINTS for this process only, so they are live before it consumes. */
  async start(
    service: string,
    env?: Record<string, string>,
    deliberate = false,
    armAtBoot?: string,
  ) {
    if (env) this.envOverrides.set(service, { ...this.envOverrides.get(service), ...env });
    // A deliberate (re)start stops the process first: the crash watcher must not take that gap for a crash.
    if (deliberate) this.expectedDown.add(service);
    const setup = this.e.services[service as keyof Experiment['services']];
    if (!setup)
      throw new Error(
        `${service} is not part of this experiment (services: ${Object.keys(this.e.services).join(', ')})`,
      );
    this.starting++;
    const started = await startService(this.c, service, {
      modes: setup.modes,
      env: {
        LAB_TOPIC: this.run.topic,
        LAB_CONSUMER_GROUP: this.run.consumerGroup,
        LAB_QUERY_GROUP: `${this.run.consumerGroup}-${service}`,
        LAB_RUN_ID: this.run.runId,
        QUERY_CACHE_PREFIX: EXP_CACHE_PREFIX,
        ...(service === 'query-service-2' ? { SERVICE_INSTANCE: '2' } : {}),
        ...setup.env,
        ...this.envOverrides.get(service),
        ...(armAtBoot ? { LAB_FAILPOINTS: armAtBoot } : {}),
      },
    }).finally(() => this.starting--);
    this.urls.set(service, started.url);
    if (deliberate) this.expectedDown.delete(service);
  }

  async stop(service: string) {
    this.expectedDown.add(service);
    await stopService(this.c, service);
  }

  rearmOnRestart(fault: Extract<Step['fault'], { type: 'failpoint' }>) {
    if (fault.action !== 'crash' || fault.repeat <= 1) return;
    const list = this.rearm.get(fault.service) ?? [];
    list.push({ fault, left: fault.repeat - 1 });
    this.rearm.set(fault.service, list);
  }

  watch() {
    this.timer = setInterval(() => void this.tick(), 250);
  }

  stopWatching() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tick() {
    if (this.busy || this.starting) return;
    this.busy = true;
    try {
      for (const [service, setup] of Object.entries(this.e.services)) {
        if (!setup.restartOnCrash || this.running(service) || this.expectedDown.has(service))
          continue;
        // One death is one crash, however many restart attempts it takes.
        const pid = supervisorFor(this.c).read(service)?.pid ?? -1;
        if (!this.counted.has(pid)) {
          this.counted.add(pid);
          this.raise('crashes');
          this.crashes++;
          this.note(`${service} died (crash #${this.crashes}); restarting it`);
        }
        // Re-armed at boot, not over HTTP once /health answers: a consumer starts consuming before it serves
        // /health, and a late arm lets it drain the topic unarmed (E-003 then saw 2 crashes of 3).
        const rearm = (this.rearm.get(service) ?? []).filter((r) => r.left > 0);
        for (const r of rearm) r.left--;
        try {
          await this.start(
            service,
            undefined,
            false,
            rearm.map((r) => failpointSpec(r.fault)).join(';') || undefined,
          );
        } catch (err) {
          // A failpoint re-armed at boot can fire before /health answers (a consumer drains its backlog first):
          // that process died too, and is a crash of the run like any other.
          const dead = supervisorFor(this.c).read(service)?.pid;
          if (!(err instanceof ComponentStartError) || dead === undefined || this.counted.has(dead))
            throw err;
          this.counted.add(dead);
          this.raise('crashes');
          this.crashes++;
          this.note(
            `${service} died during its restart (crash #${this.crashes}); restarting it again`,
          );
          continue;
        }
        this.raise('restarts');
        for (const r of rearm)
          this.note(
            `re-armed ${r.fault.failpoint} on ${service} at its start (${r.left} more after this)`,
          );
      }
    } catch (err) {
      this.note(`restart failed: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      this.busy = false;
    }
  }

  /** Stops every service of the experiment; throws (naming them) if any is still running afterwards. */
  async stopAll() {
    const services = Object.keys(this.e.services);
    const outcomes = await Promise.allSettled(services.map((s) => stopService(this.c, s)));
    const left = services.filter((s, i) => outcomes[i].status === 'rejected' || this.running(s));
    if (left.length) throw new Error(`still running: ${left.join(', ')}`);
  }

  /** Services of the experiment still running (for a rollback record's leftover). */
  runningServices(): string[] {
    return Object.keys(this.e.services).filter((s) => this.running(s));
  }
}

/** LAB_FAILPOINTS syntax (src/lib/failpoints.ts): name=action[:delayMs]@after[+ if sticky] */
function failpointSpec(f: Extract<Step['fault'], { type: 'failpoint' }>): string {
  return `${f.failpoint}=${f.action}${f.delayMs ? `:${f.delayMs}` : ''}@${f.after}${f.sticky ? '+' : ''}`;
}
