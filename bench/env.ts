import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { LabConfig } from '../src/lib/config';
import { labRedis } from '../src/lib/redis';

const run = promisify(execFile);

export interface Machine {
  cpus: string;
  ramGiB: number;
  os: string;
  node: string;
  kafka: string;
  kafkajs: string;
  mariadb: string;
  redis: string;
}

export async function machine(c: LabConfig, pool: Pool): Promise<Machine> {
  const [v] = await pool.query<RowDataPacket[]>('SELECT VERSION() AS v');
  const redis = labRedis(c);
  const info = await redis.info('server').finally(() => redis.disconnect());
  const cpu = os.cpus();
  return {
    cpus: `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'}`,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    kafka: c.kafkaVersion,
    kafkajs: (
      JSON.parse(fs.readFileSync(require.resolve('kafkajs/package.json'), 'utf8')) as {
        version: string;
      }
    ).version,
    mariadb: String(v[0].v),
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
  };
}

export interface StackFigures {
  warmUpSeconds: number;
  cold: string;
  rssMiB: number;
}

/** warm = `chaos up` on the running stack (a no-op check); cold is measured by CI into .lab/bench-cold-up.txt. */
export async function stackFigures(c: LabConfig): Promise<StackFigures> {
  const bin = path.join(c.root, 'bin', 'run.js');
  const t0 = process.hrtime.bigint();
  await run(process.execPath, [bin, 'up'], { cwd: c.root, timeout: 300_000 });
  const warmUpSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const { stdout } = await run(process.execPath, [bin, 'status', '--json'], {
    cwd: c.root,
    timeout: 60_000,
    maxBuffer: 4 << 20,
  });
  const rows = JSON.parse(stdout) as { rssMiB: number | null }[];
  const coldFile = path.join(c.labDir, 'bench-cold-up.txt');
  const cold = fs.existsSync(coldFile)
    ? fs.readFileSync(coldFile, 'utf8').trim()
    : 'not measured in this run';
  return { warmUpSeconds, cold, rssMiB: rows.reduce((s, r) => s + (r.rssMiB ?? 0), 0) };
}
