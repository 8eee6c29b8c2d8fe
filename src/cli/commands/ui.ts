import { Flags } from '@oclif/core';
import * as path from 'node:path';
import { LabCommand } from '../base';
import { ensureUiProcess } from '../../ui/process';
import { serveUi } from '../../ui/server';

export default class Ui extends LabCommand {
  static override summary =
    'Serve the lab UI: experiments and last verdicts, topics (LSO/HW/LEO, group lag), active toxics and failpoints, services.';
  static override description =
    'Runs in the foreground until Ctrl-C, or with --detach as a supervised process that `chaos down` stops (same as `chaos up --ui`). ' +
    'Listens on 127.0.0.1 at the labUi port (18099; LAB_LAB_UI_PORT or LAB_PORT_OFFSET move it).';
  static override examples = [
    '<%= config.bin %> ui',
    '<%= config.bin %> ui --detach',
    '<%= config.bin %> ui --reports test-output --topics "^lab\\."',
  ];
  static override flags = {
    detach: Flags.boolean({
      description: 'start it as a supervised background process and return its URL',
    }),
    reports: Flags.string({
      description: 'directory of run reports (journal.json, report.html/md)',
      default: 'reports',
    }),
    topics: Flags.string({ description: 'regular expression: only topics whose name matches' }),
  };

  async run() {
    const { flags } = await this.parse(Ui);
    const c = this.lab;
    const reportsDir = path.resolve(
      flags.reports === 'reports' ? path.join(c.root, 'reports') : flags.reports,
    );
    if (flags.detach) {
      const r = await ensureUiProcess(c, {
        LAB_UI_REPORTS: reportsDir,
        ...(flags.topics ? { LAB_UI_TOPICS: flags.topics } : {}),
      });
      if (!this.jsonEnabled())
        this.log(
          `lab UI ${r.started ? 'started' : 'already running'} on ${r.url} (pid ${r.pid}); \`chaos down\` stops it`,
        );
      return { ...r, reportsDir };
    }
    const ui = await serveUi(c, {
      port: c.ports.labUi,
      reportsDir,
      topicFilter: flags.topics ? new RegExp(flags.topics) : undefined,
    });
    this.logToStderr(`lab UI on ${ui.url} (reports from ${reportsDir}); Ctrl-C stops it`);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    await ui.close();
    return { url: ui.url, reportsDir };
  }
}
