import type { RuntimeName } from '../../lib/config';

/** What the last-resort resume did: the components it resumed, and those it could not (each with why). */
export interface ResumeAllResult {
  resumed: string[];
  failed: { component: string; error: Error }[];
}

/** What a process fault does to a component: the same vocabulary for every runtime. */
export type ProcessAction = 'kill' | 'pause' | 'resume';

/**
 * Who carries out process faults. `local` signals the lab's own processes by pidfile; `docker` asks the Docker
 * Engine to kill, pause or unpause the container of the same name in docker-compose.yml. Faults, `chaos inject`
 * and `chaos heal` call only this, so an experiment runs unchanged on either.
 */
export interface RuntimeDriver {
  readonly name: RuntimeName;
  /** kill -9 (a crash: no shutdown hook runs) */
  kill(component: string): Promise<void>;
  /** SIGSTOP / docker pause: the process is frozen, its sockets stay open */
  pause(component: string): Promise<void>;
  /** SIGCONT / docker unpause */
  resume(component: string): Promise<void>;
  /** Brings a killed component back (local: `chaos up`; docker: start the container). */
  revive(component: string): Promise<void>;
  /** Resumes every paused component (the last-resort rollback); a component it could not resume is in `failed`. */
  resumeAll(components: string[]): Promise<ResumeAllResult>;
}

export const applyAction = (d: RuntimeDriver, component: string, action: ProcessAction) => d[action](component);
