import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../src/lib/config';
import { uiApp } from '../../src/ui/server';

/** The lab UI's app on an ephemeral loopback port with a reports dir of its own (no stack needed). */
export async function startUiApp(
  prefix: string,
): Promise<{ url: string; stop: () => Promise<void> }> {
  const reportsDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const { app, close } = uiApp(loadConfig(), { reportsDir, port: 0 });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      await close();
      server.closeAllConnections();
      server.close();
      fs.rmSync(reportsDir, { recursive: true, force: true });
    },
  };
}
