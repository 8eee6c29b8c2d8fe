/**
 * One base error for the lab. Each subclass says what failed and how to fix it; `retriable` tells callers
 * (retry loops, DLQ decisions) whether trying again can help, so no code inspects message text.
 */
export class LabError extends Error {
  readonly labError = true;
  constructor(
    message: string,
    readonly opts: { retriable?: boolean; cause?: unknown; exitCode?: number } = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
  get retriable(): boolean {
    return this.opts.retriable ?? false;
  }
  get exitCode(): number {
    return this.opts.exitCode ?? 1;
  }
}

export class ConfigError extends LabError {}

export class MissingBinaryError extends LabError {
  constructor(
    readonly binary: string,
    fix: string,
  ) {
    super(`${binary} not found: ${fix}`);
  }
}

export class ProvisionError extends LabError {}

export class ComponentStartError extends LabError {
  constructor(
    readonly component: string,
    reason: string,
    readonly logFile?: string,
    readonly logTail?: string,
  ) {
    super(
      `${component} did not become healthy: ${reason}` +
        (logFile ? `\n--- last lines of ${logFile} ---\n${logTail ?? ''}` : ''),
    );
  }
}

export class TimeoutError extends LabError {
  constructor(what: string, ms: number) {
    super(`timed out after ${ms} ms waiting for ${what}`, { retriable: true });
  }
}

export class UnknownNameError extends LabError {
  constructor(kind: string, name: string, valid: readonly string[]) {
    super(`unknown ${kind} "${name}"; valid: ${valid.join(', ')}`);
  }
}

export class PortInUseError extends LabError {
  constructor(
    readonly port: number,
    readonly component: string,
    holder: string | undefined,
    envVar: string,
  ) {
    super(
      `port ${port} (${component}) is busy${holder ? ` — held by ${holder}` : ''}: ` +
        `run \`chaos down\` if it is ours, stop that process, or set ${envVar} to another port`,
    );
  }
}
