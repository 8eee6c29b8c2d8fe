import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LabConfig } from '../lib/config';
import { ensureMigrated, SECOND_INSTANCES, serviceDef, SERVICE_NAMES, SERVICES, startService, stopService, validateModes, type ServiceName, type StartedService } from './services';
import { supervisorFor } from './stack';

/** The second copies (query-service-2, outbox-relay-2) start only when asked for. */
export const DEFAULT_SERVICES = SERVICE_NAMES.filter((s) => !SECOND_INSTANCES.includes(s));

export interface ServicesUpOptions {
  only?: string[];
  /** every mode variable, each given to the services that have it: { COMMAND_MODE: 'direct', STAMPEDE: 'none' } */
  modes?: Record<string, string | undefined>;
  env?: Record<string, string | undefined>;
}

export interface ServicesUpResult {
  started: StartedService[];
  skipped: { name: string; reason: string }[];
  migrations: unknown;
}

/** Migrate, then (re)start the chosen services in registry order. A service not built yet is skipped unless named. */
export async function servicesUp(c: LabConfig, o: ServicesUpOptions = {}): Promise<ServicesUpResult> {
  const names = (o.only?.length ? o.only : DEFAULT_SERVICES).map((n) => (serviceDef(n), n as ServiceName));
  const wanted = SERVICE_NAMES.filter((n) => names.includes(n));
  for (const n of wanted) validateModes(n, pick(o.modes, n));
  const migrations = await ensureMigrated(c);
  const started: StartedService[] = [];
  const skipped: ServicesUpResult['skipped'] = [];
  for (const n of wanted) {
    const entry = path.join(c.root, 'dist', 'src', 'services', SERVICES[n].entry, 'main.js');
    if (!o.only?.length && !fs.existsSync(entry)) {
      skipped.push({ name: n, reason: `${path.relative(c.root, entry)} not built` });
      continue;
    }
    started.push(await startService(c, n, { modes: pick(o.modes, n), env: o.env }));
  }
  return { started, skipped, migrations };
}

/** The mode variables that service `n` has, out of all the ones given. */
function pick(modes: Record<string, string | undefined> = {}, n: ServiceName) {
  return Object.fromEntries(Object.entries(modes).filter(([k, v]) => v !== undefined && k in SERVICES[n].modes));
}

/** Stops every service process (instances included), consumers first. Infrastructure is left running. */
export async function servicesDown(c: LabConfig): Promise<string[]> {
  const procs = supervisorFor(c).list().map((r) => r.name).filter((p) => SERVICE_NAMES.some((s) => p === s || new RegExp(`^${s}-[\\w]+$`).test(p)));
  const order = [...SERVICE_NAMES].reverse();
  procs.sort((a, b) => order.findIndex((s) => a.startsWith(s)) - order.findIndex((s) => b.startsWith(s)));
  const stopped: string[] = [];
  for (const p of procs) if (await stopService(c, p)) stopped.push(p);
  return stopped;
}
