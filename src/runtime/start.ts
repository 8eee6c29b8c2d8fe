import { portEnvVar } from '../lib/config';
import { ComponentStartError, PortInUseError } from '../lib/errors';
import { waitFor } from '../lib/wait';
import type { Component } from './components/component';
import { isPortFree, portHolder } from './ports';
import type { Progress } from './progress';
import type { Supervisor } from './supervisor';

/** What one start call did, accumulated across groups so a failure can stop exactly what it started. */
export interface StartLog {
  started: string[];
  alreadyRunning: string[];
}

/** Start every component of the group that is not running, then wait for all of them to be healthy. */
export async function startGroup(sup: Supervisor, group: Component[], progress: Progress, log: StartLog): Promise<void> {
  const toWait: Component[] = [];
  for (const comp of group) {
    if (sup.isAlive(comp.name)) {
      log.alreadyRunning.push(comp.name);
      continue;
    }
    await sup.stop(comp.name); // clears a stale pidfile
    for (const { key, port } of comp.ports) {
      if (!(await isPortFree(port))) throw new PortInUseError(port, comp.name, portHolder(port), portEnvVar(key));
    }
    await comp.prepare();
    sup.start(comp.spec());
    log.started.push(comp.name);
    toWait.push(comp);
  }
  for (const comp of toWait) {
    const ts = Date.now();
    await waitHealthy(sup, comp);
    await comp.afterStart?.();
    progress.done(`${comp.name} healthy`, ts);
  }
}

export async function waitHealthy(sup: Supervisor, comp: Component) {
  try {
    await waitFor(`${comp.name} health`, () => comp.healthy(), {
      timeoutMs: comp.startTimeoutMs,
      intervalMs: 300,
      abortIf: () => (sup.isAlive(comp.name) ? undefined : new ComponentStartError(comp.name, 'the process exited during start', sup.logFile(comp.name), sup.logTail(comp.name))),
    });
  } catch (e) {
    if (e instanceof ComponentStartError) throw e;
    throw new ComponentStartError(comp.name, (e as Error).message, sup.logFile(comp.name), sup.logTail(comp.name));
  }
}

/** Polls a whole-stack probe (beyond each component's own health) and reports how long it took. */
export async function gate(what: string, progress: Progress, probe: () => Promise<boolean>, timeoutMs = 120_000) {
  const t = Date.now();
  try {
    await waitFor(what, probe, { timeoutMs, intervalMs: 500 });
  } catch (e) {
    throw new ComponentStartError(what, (e as Error).message);
  }
  progress.done(what, t);
}
