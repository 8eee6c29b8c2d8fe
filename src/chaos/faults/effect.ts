import type { LabConfig } from '../../lib/config';
import type { RuntimeName } from '../../lib/config';
import { LabError } from '../../lib/errors';
import { supervisorFor } from '../../runtime/stack';

/**
 * A fault that could not take effect (a kill of a process that was already dead): the run cannot tell what the
 * fault would have shown, so the engine makes it inconclusive rather than aborted or judged.
 */
export class FaultHadNoEffect extends LabError {}

/** Did a fault reach anything? Asked just before its undo (or at the end of the run when it has none). */
export interface Effect {
  took: boolean;
  /** what was seen: "1234 bytes crossed mysql downstream", or why it had no effect */
  detail: string;
}

export type Direction = 'upstream' | 'downstream';

/**
 * Bytes Toxiproxy received on a proxy in one direction since it started (`-proxy-metrics`: counted as data enters
 * the proxy, before its toxics), read straight from Toxiproxy so the check needs no Prometheus scrape.
 */
export async function proxyBytes(
  c: LabConfig,
  proxy: string,
  direction: Direction,
): Promise<number> {
  const res = await fetch(`http://${c.host}:${c.ports.toxiproxy}/metrics`, {
    signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) throw new LabError(`Toxiproxy /metrics answered HTTP ${res.status}`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('toxiproxy_proxy_received_bytes_total{')) continue;
    if (!line.includes(`proxy="${proxy}"`) || !line.includes(`direction="${direction}"`)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** A reading, or why there is none (a failed read must not become a rejected promise nobody awaits). */
const reading = (p: Promise<number>): Promise<number | Error> => p.catch((err: Error) => err);

/**
 * A toxic took effect when traffic entered its proxy in its direction while it was there: the count is read when
 * it is applied (await this), then when it is removed (`removed()`), or at the check if it is still there.
 */
export async function trafficCheck(c: LabConfig, proxy: string, direction: Direction) {
  const start = await reading(proxyBytes(c, proxy, direction));
  let stop: Promise<number | Error> | undefined;
  return {
    /** call just before the toxic goes: what crosses after that is not the toxic's */
    removed: async () => void (await (stop ??= reading(proxyBytes(c, proxy, direction)))),
    check: async (): Promise<Effect> => {
      const end = await (stop ?? reading(proxyBytes(c, proxy, direction)));
      if (start instanceof Error || end instanceof Error)
        return {
          took: false,
          detail: `Toxiproxy's byte count for ${proxy} could not be read (${(start instanceof Error ? start : (end as Error)).message})`,
        };
      const crossed = end - start;
      return crossed > 0
        ? {
            took: true,
            detail: `${crossed} bytes entered ${proxy} ${direction} while it was there`,
          }
        : { took: false, detail: `no traffic entered ${proxy} ${direction} while it was there` };
    },
  };
}

/**
 * Throws FaultHadNoEffect when a process to kill or pause is not running (local runtime: its pidfile): a kill of
 * a dead process shows nothing. The docker runtime answers for itself (its error aborts the run).
 */
export function notRunning(c: LabConfig, runtime: RuntimeName, component: string, action: string) {
  if (runtime === 'local' && !supervisorFor(c).isAlive(component))
    throw new FaultHadNoEffect(
      `${action} ${component}: it was not running, so the fault had nothing to act on; \`chaos status\` shows what runs`,
    );
}
