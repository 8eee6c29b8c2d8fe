/* The lab UI as a supervised process (`chaos up --ui`, `chaos ui --detach`); `chaos down` stops it by pidfile. */
import * as path from 'node:path';
import { loadConfig } from '../lib/config';
import { serveUi } from './server';

async function main() {
  const c = loadConfig();
  const reportsDir = process.env.LAB_UI_REPORTS
    ? path.resolve(process.env.LAB_UI_REPORTS)
    : path.join(c.root, 'reports');
  const ui = await serveUi(c, {
    port: c.ports.labUi,
    reportsDir,
    topicFilter: process.env.LAB_UI_TOPICS ? new RegExp(process.env.LAB_UI_TOPICS) : undefined,
  });
  process.stdout.write(`lab UI on ${ui.url} (reports from ${reportsDir})\n`);
  const stop = () => void ui.close().finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e: Error) => {
  process.stderr.write(`lab UI failed: ${e.message}\n`);
  process.exit(1);
});
