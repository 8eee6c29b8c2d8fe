import { brokerName } from '../chaos/process-faults';
import { registerSchema, runSubject, setCompatibility } from '../chaos/registry';
import { runtimeDriver } from '../runtime/driver';
import { addToxic, removeToxic } from '../chaos/toxics';
import type { LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';
import { silentProgress } from '../runtime/progress';
import { up } from '../runtime/stack';
import type { Fault } from './schema-faults';

/** An undo for a fault; the engine runs every pending one in its `finally`, whatever happened. */
export type Rollback = { name: string; run: () => Promise<void> };

export interface FaultContext {
  c: LabConfig;
  serviceUrl: (service: string) => string;
  /** (re)start a service with its experiment modes plus `env` */
  startService: (service: string, env?: Record<string, string>) => Promise<void>;
  /** a deliberate stop: the engine will not treat it as a crash to restart */
  stopService: (service: string) => Promise<void>;
  replay: (dryRun: boolean) => Promise<unknown>;
  note: (what: string, data?: Record<string, unknown>) => void;
  /** the run's topic (registry steps default to its value subject) */
  topic: string;
  /** a registry step was refused with HTTP 409 */
  schemaRejected: () => void;
}

export async function armFailpoint(serviceUrl: (service: string) => string, f: Extract<Fault, { type: 'failpoint' }>): Promise<void> {
  const res = await fetch(`${serviceUrl(f.service)}/failpoints/${f.failpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: f.action, after: f.after, delayMs: f.delayMs, sticky: f.sticky }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new LabError(`arming ${f.failpoint} on ${f.service} failed: HTTP ${res.status} ${await res.text()}`);
}

/** Applies one fault of the timeline; returns its rollback, if it has one. */
export async function applyFault(ctx: FaultContext, f: Fault, stepIndex = 0): Promise<Rollback | undefined> {
  switch (f.type) {
    case 'failpoint':
      await armFailpoint(ctx.serviceUrl, f);
      ctx.note(`armed ${f.failpoint} on ${f.service}: ${f.action} on pass ${f.after}${f.repeat > 1 ? `, up to ${f.repeat}×` : ''}`);
      return { name: `disarm ${f.failpoint}`, run: async () => void (await fetch(`${ctx.serviceUrl(f.service)}/failpoints`, { method: 'DELETE' }).catch(() => {})) };
    case 'toxic': {
      const name = await addToxic(ctx.c, { proxy: f.proxy, name: `exp${stepIndex}_${f.toxic.type}_${f.toxic.stream}`, ...f.toxic });
      ctx.note(`toxic ${f.toxic.type} on ${f.proxy} (${f.toxic.stream}) ${JSON.stringify(f.toxic.attributes)}`);
      const rollback = { name: `remove toxic ${name} from ${f.proxy}`, run: () => removeToxic(ctx.c, f.proxy, name, f.toxic.type).catch(() => {}) };
      if (f.durationMs) setTimeout(() => void rollback.run().then(() => ctx.note(`toxic ${name} on ${f.proxy} removed after ${f.durationMs} ms`)), f.durationMs).unref();
      return rollback;
    }
    case 'broker': {
      const comp = brokerName(ctx.c, f.broker);
      if (f.action === 'restart') {
        await up(ctx.c, silentProgress);
        ctx.note(`brokers restarted; cluster healthy`);
        return undefined;
      }
      const driver = runtimeDriver(ctx.c);
      await driver[f.action](comp);
      ctx.note(`${f.action} ${comp}${driver.name === 'local' ? '' : ` (${driver.name} runtime)`}`);
      if (f.action === 'pause') return { name: `resume ${comp}`, run: () => driver.resume(comp).catch(() => {}) };
      if (f.action === 'kill') return { name: `restart ${comp}`, run: () => driver.revive(comp) };
      return undefined;
    }
    case 'service':
      if (f.action === 'crash') {
        await runtimeDriver(ctx.c).kill(f.service);
        ctx.note(`kill -9 ${f.service}`);
      } else if (f.action === 'stop') {
        await ctx.stopService(f.service);
        ctx.note(`stopped ${f.service}`);
      } else {
        await ctx.startService(f.service, f.env);
        ctx.note(`${f.action}ed ${f.service}${f.env ? ` with ${JSON.stringify(f.env)}` : ''}`);
      }
      return undefined;
    case 'registry': {
      const subject = runSubject(ctx.topic, f.subject);
      if (f.action === 'set-compatibility') {
        const a = await setCompatibility(ctx.c, subject, f.level!);
        ctx.note(`registry: compatibility of ${subject} set to ${f.level} (HTTP ${a.status})`, { status: a.status });
        return undefined;
      }
      const a = await registerSchema(ctx.c, subject, f.schema!);
      if (a.status === 409) ctx.schemaRejected();
      ctx.note(`registry: register ${f.schema} under ${subject} → HTTP ${a.status}${a.status === 409 ? ' (rejected: incompatible)' : ` (schema id ${a.id})`}`, { status: a.status, id: a.id, message: a.message });
      return undefined;
    }
    case 'replay':
      for (let i = 0; i < f.times; i++) {
        const r = await ctx.replay(f.dryRun);
        ctx.note(`replay ${i + 1}/${f.times}${f.dryRun ? ' (dry run)' : ''}`, { result: r as Record<string, unknown> });
      }
      return undefined;
  }
}
