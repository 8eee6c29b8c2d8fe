import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LabConfig } from '../../lib/config';
import { LabError } from '../../lib/errors';
import { supervisorFor } from '../../runtime/stack';
import { proxyAddresses } from '../toxics';
import type { Effect } from './effect';

const exec = promisify(execFile);

export type Direction = 'upstream' | 'downstream';

/** Bytes in, per TCP connection (keyed by its two ends), as the kernel counts them (tcp_info's bytes_received). */
export type SocketBytes = Map<string, number>;

/**
 * Parses `ss -tinpH state established …`: a line per socket (its addresses, then its process), then an indented
 * line of tcp_info with `bytes_received:N`. Keeps the sockets of process `pid`.
 */
export function parseSs(out: string, pid: number): SocketBytes {
  const sockets: SocketBytes = new Map();
  let current: string | undefined;
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) {
      const f = line.trim().split(/\s+/);
      // Recv-Q Send-Q Local Peer [Process]
      current = line.includes(`pid=${pid},`) ? `${f[2]} ${f[3]}` : undefined;
      continue;
    }
    if (!current) continue;
    const m = /\bbytes_received:(\d+)/.exec(line);
    sockets.set(current, m ? Number(m[1]) : 0);
    current = undefined;
  }
  return sockets;
}

/**
 * A connection crossed the proxy in a direction while the toxic was there when data entered the proxy in that
 * direction, before its toxics: bytes grew on a connection seen at both readings, a new connection brought bytes,
 * or a connection closed in between (its close crossed the toxic). Toxiproxy's own byte metrics cannot tell:
 * they count a connection only when it closes, and the lab's clients keep theirs open.
 */
export function crossed(
  before: SocketBytes,
  after: SocketBytes,
): { took: boolean; detail: string } {
  let bytes = 0;
  let connections = 0;
  for (const [k, n] of after) {
    const grew = n - (before.get(k) ?? 0);
    if (grew > 0) {
      bytes += grew;
      connections++;
    }
  }
  const closed = [...before.keys()].filter((k) => !after.has(k)).length;
  if (bytes > 0 || closed > 0)
    return {
      took: true,
      detail: `${bytes} bytes entered on ${connections} connection(s)${closed ? `, ${closed} closed` : ''}`,
    };
  return {
    took: false,
    detail: `no bytes entered on ${after.size} open connection(s), none opened or closed with data`,
  };
}

/**
 * The sockets where data enters Toxiproxy in a direction: upstream (client → server) on the connections it
 * accepted on the proxy's listen port; downstream (server → client) on the connections it opened to the upstream.
 */
export async function enteringBytes(
  c: LabConfig,
  proxy: { listen: string; upstream: string },
  direction: Direction,
): Promise<SocketBytes> {
  const pid = supervisorFor(c).read('toxiproxy')?.pid;
  if (!pid) throw new LabError('Toxiproxy has no pidfile: run `chaos up`');
  const port = (addr: string) => addr.slice(addr.lastIndexOf(':') + 1);
  const filter =
    direction === 'upstream'
      ? `sport = :${port(proxy.listen)}`
      : `dport = :${port(proxy.upstream)}`;
  const { stdout } = await exec('ss', ['-tinpH', 'state', 'established', filter], {
    timeout: 5000,
  }).catch((e: Error) => {
    throw new LabError(
      `ss could not list Toxiproxy's sockets (${e.message}): install iproute2 and run as root`,
      { cause: e },
    );
  });
  return parseSs(stdout, pid);
}

/** A reading, or why there is none (a failed read must not become a rejected promise nobody awaits). */
const reading = (p: Promise<SocketBytes>): Promise<SocketBytes | Error> =>
  p.catch((err: Error) => err);

/**
 * Whether a toxic took effect: reads the entering bytes when it goes on (await this), again when it comes off
 * (`removed()`, or at the check if it is still there). Local runtime only: Docker's sockets are in its own
 * network namespaces, where the lab does not look (undefined: no check).
 */
export async function trafficCheck(c: LabConfig, proxyName: string, direction: Direction) {
  if (c.runtime !== 'local') return undefined;
  const proxy = await proxyAddresses(c, proxyName);
  const read = () => reading(enteringBytes(c, proxy, direction));
  const start = await read();
  let stop: Promise<SocketBytes | Error> | undefined;
  return {
    /** call just before the toxic goes: what crosses after that is not the toxic's */
    removed: async () => void (await (stop ??= read())),
    check: async (): Promise<Effect> => {
      const end = await (stop ?? read());
      if (start instanceof Error || end instanceof Error)
        return {
          took: false,
          detail: `the bytes entering ${proxyName} ${direction} could not be read (${(start instanceof Error ? start : (end as Error)).message})`,
        };
      const r = crossed(start, end);
      return { took: r.took, detail: `${proxyName} ${direction}: ${r.detail} while it was there` };
    },
  };
}
