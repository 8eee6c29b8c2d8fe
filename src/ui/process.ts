import * as fs from 'node:fs';
import * as path from 'node:path';
import { portEnvVar, type LabConfig } from '../lib/config';
import { ComponentStartError, ConfigError, PortInUseError } from '../lib/errors';
import { waitFor } from '../lib/wait';
import { isPortFree, portHolder } from '../runtime/ports';
import { supervisorFor } from '../runtime/stack';

/** Its pidfile name: `chaos down` stops it with the lab services (everything that has a pidfile). */
export const UI_PROCESS = 'lab-ui';

export const uiUrl = (c: LabConfig) => `http://${c.host}:${c.ports.labUi}`;

/** Starts the UI as a supervised process unless it already runs; returns its URL once /api/health answers. */
export async function ensureUiProcess(
  c: LabConfig,
  env: Record<string, string> = {},
): Promise<{ url: string; started: boolean; pid: number }> {
  const sup = supervisorFor(c);
  const url = uiUrl(c);
  const rec = sup.read(UI_PROCESS);
  if (rec && sup.isAlive(UI_PROCESS)) return { url, started: false, pid: rec.pid };
  const entry = path.join(c.root, 'dist', 'src', 'ui', 'main.js');
  if (!fs.existsSync(entry)) throw new ConfigError(`${entry} is missing: run \`npm run build\``);
  await sup.stop(UI_PROCESS); // a stale pidfile
  if (!(await isPortFree(c.ports.labUi)))
    throw new PortInUseError(
      c.ports.labUi,
      UI_PROCESS,
      portHolder(c.ports.labUi),
      portEnvVar('labUi'),
    );
  const started = sup.start({
    name: UI_PROCESS,
    command: process.execPath,
    args: [entry],
    env,
    cwd: c.root,
  });
  try {
    await waitFor(
      'lab UI /api/health',
      async () => (await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1000) })).ok,
      {
        timeoutMs: 20_000,
        intervalMs: 200,
        abortIf: () =>
          sup.isAlive(UI_PROCESS)
            ? undefined
            : new ComponentStartError(
                UI_PROCESS,
                'the process exited during start',
                sup.logFile(UI_PROCESS),
                sup.logTail(UI_PROCESS),
              ),
      },
    );
  } catch (e) {
    await sup.stop(UI_PROCESS);
    if (e instanceof ComponentStartError) throw e;
    throw new ComponentStartError(
      UI_PROCESS,
      (e as Error).message,
      sup.logFile(UI_PROCESS),
      sup.logTail(UI_PROCESS),
    );
  }
  return { url, started: true, pid: started.pid };
}
