import { Command, Flags } from '@oclif/core';
import { loadConfig, RUNTIMES, type LabConfig } from '../lib/config';
import { LabError } from '../lib/errors';

/** Every command: config resolved once, `--json` available, lab errors printed with their fix, no stack trace. */
export abstract class LabCommand extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = {
    runtime: Flags.string({
      options: [...RUNTIMES],
      helpGroup: 'GLOBAL',
      description:
        'who carries out process faults: local processes (default) or docker-compose containers; env LAB_RUNTIME',
    }),
  };
  private _config?: LabConfig;

  protected get lab(): LabConfig {
    // --runtime overrides LAB_RUNTIME; read from argv so every command gets it without parsing twice.
    const i = this.argv.findIndex((a) => a === '--runtime' || a.startsWith('--runtime='));
    const runtime =
      i < 0
        ? undefined
        : this.argv[i].includes('=')
          ? this.argv[i].split('=')[1]
          : this.argv[i + 1];
    this._config ??= loadConfig(runtime ? { ...process.env, LAB_RUNTIME: runtime } : process.env);
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
  const cell = (v: unknown) =>
    v === null || v === undefined ? '-' : Array.isArray(v) ? v.join(',') : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [
    line(cols),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(cols.map((c) => cell(r[c])))),
  ].join('\n');
}
