import { Command } from '@oclif/core';
import { loadConfig, type LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';

/** Every command: config resolved once, `--json` available, lab errors printed with their fix, no stack trace. */
export abstract class LabCommand extends Command {
  static override enableJsonFlag = true;
  private _config?: LabConfig;

  protected get lab(): LabConfig {
    this._config ??= loadConfig();
    return this._config;
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (err instanceof LabError) {
      if (this.jsonEnabled()) this.logJson({ error: err.message, kind: err.name });
      else this.logToStderr(`error: ${err.message}`);
      this.exit(err.exitCode);
    }
    return super.catch(err);
  }
}

/** Renders rows as an aligned text table. */
export function table(rows: Record<string, unknown>[], columns?: string[]): string {
  if (!rows.length) return '(none)';
  const cols = columns ?? Object.keys(rows[0]);
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n');
}
