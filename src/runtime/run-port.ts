import { LabError } from '../lib/errors';

/**
 * The one timeout of a failpoint call. 5 s: arming, disarming one and the workloads' reads had 5 s; heal's
 * disarm-all had 2 s and the UI's and `chaos services failpoints`' reads 1.5 s — the longest is kept.
 */
export const FAILPOINT_TIMEOUT_MS = 5000;

/** How a failpoint fires (POST /failpoints/<name>). */
export interface FailpointSpec {
  action: 'crash' | 'error' | 'delay';
  /** fire on the N-th pass (1-based) */
  after: number;
  delayMs: number;
  sticky: boolean;
  /** count only the passes that concern this key */
  key?: string;
}

/** One armed failpoint as the service lists it (GET /failpoints). */
export interface ArmedFailpoint {
  name: string;
  action: string;
  after: number;
  fired: number;
}

/**
 * A failpoint call that did not succeed: `unreachable` (no answer: refused, reset, timed out — no process is
 * serving) or `http` (the service answered, and refused). `fix` is what an operator does about it.
 */
export class FailpointError extends LabError {
  constructor(
    message: string,
    readonly reason: 'unreachable' | 'http',
    readonly fix: string,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

/** The failpoints of one service at `baseUrl` (http://host:port): the only code that speaks failpoint HTTP. */
export interface ServiceFailpoints {
  /** POST /failpoints/<name>; throws a FailpointError unless the service confirmed */
  arm(name: string, spec: FailpointSpec): Promise<void>;
  /** DELETE /failpoints/<name>; throws a FailpointError unless the service confirmed */
  disarm(name: string): Promise<void>;
  /** DELETE /failpoints; throws a FailpointError unless the service confirmed */
  disarmAll(): Promise<void>;
  /** GET /failpoints: what is armed, with how often each fired; throws a FailpointError */
  armed(): Promise<ArmedFailpoint[]>;
  /** a one-shot failpoint is gone from the armed list once it fired; throws a FailpointError */
  fired(name: string): Promise<boolean>;
}

export function failpointsAt(baseUrl: string, service: string): ServiceFailpoints {
  const call = async (path: string, init: RequestInit, what: string, fix: string) => {
    const url = `${baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(FAILPOINT_TIMEOUT_MS) });
    } catch (e) {
      throw new FailpointError(
        `${what} failed: ${url} unreachable (${(e as Error).message})`,
        'unreachable',
        `\`chaos services status\`: is ${service} running? ${fix}`,
        e,
      );
    }
    if (!res.ok)
      throw new FailpointError(
        `${what} failed: HTTP ${res.status} ${await res.text()}`,
        'http',
        fix,
      );
    return res;
  };
  const restart = `\`chaos services restart ${service}\` (a restart starts it with none armed)`;
  const armed = async () => {
    const res = await call(
      '/failpoints',
      {},
      `reading the failpoints of ${service}`,
      `see .lab/logs/${service}.log`,
    );
    return ((await res.json()) as { armed: ArmedFailpoint[] }).armed;
  };
  return {
    arm: async (name, spec) =>
      void (await call(
        `/failpoints/${name}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            action: spec.action,
            after: spec.after,
            delayMs: spec.delayMs,
            sticky: spec.sticky,
            ...(spec.key !== undefined ? { key: spec.key } : {}),
          }),
        },
        `arming ${name} on ${service}`,
        `\`chaos services failpoints\` lists the failpoints ${service} has`,
      )),
    disarm: async (name) =>
      void (await call(
        `/failpoints/${name}`,
        { method: 'DELETE' },
        `disarming ${name} on ${service}`,
        `chaos heal (or restart ${service})`,
      )),
    disarmAll: async () =>
      void (await call(
        '/failpoints',
        { method: 'DELETE' },
        `disarming the failpoints of ${service}`,
        restart,
      )),
    armed,
    fired: async (name) => !(await armed()).some((a) => a.name === name),
  };
}

/** The failpoints of the run's services, by service name. */
export interface RunFailpoints {
  arm(service: string, name: string, spec: FailpointSpec): Promise<void>;
  disarm(service: string, name: string): Promise<void>;
  disarmAll(service: string): Promise<void>;
  armed(service: string): Promise<ArmedFailpoint[]>;
  fired(service: string, name: string): Promise<boolean>;
}

export interface ReplaySummary {
  inDlq: number;
  selected: number;
  replayed: number;
}

/**
 * The one handle on a run's running services, as the engine, a workload, a fault, `chaos inject` see them
 * (issue #27): where each answers, (re)start and stop, their failpoints, the DLQ replay of the run's topic.
 */
export interface RunPort {
  /** base URL of one of the run's services */
  url(service: string): string;
  /** a deliberate (re)start with the run's modes plus `env` (sticky for later restarts) */
  start(service: string, env?: Record<string, string>): Promise<void>;
  /** a deliberate stop: the engine does not take it for a crash to restart */
  stop(service: string): Promise<void>;
  /** deliberately stopped by a step, and not running: nothing to wait for from it */
  stopped(service: string): boolean;
  failpoints: RunFailpoints;
  /** replays the DLQ of the run's topic */
  replay(dryRun: boolean): Promise<ReplaySummary>;
}

/** A RunPort from its parts: the failpoints are reached at `url(service)`. */
export function runPort(parts: Omit<RunPort, 'failpoints'>): RunPort {
  const at = (service: string) => failpointsAt(parts.url(service), service);
  return {
    url: (s) => parts.url(s),
    start: (s, env) => parts.start(s, env),
    stop: (s) => parts.stop(s),
    stopped: (s) => parts.stopped(s),
    replay: (dryRun) => parts.replay(dryRun),
    failpoints: {
      arm: (s, name, spec) => at(s).arm(name, spec),
      disarm: (s, name) => at(s).disarm(name),
      disarmAll: (s) => at(s).disarmAll(),
      armed: (s) => at(s).armed(),
      fired: (s, name) => at(s).fired(name),
    },
  };
}
