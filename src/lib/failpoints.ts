import { z } from 'zod';
import { LabError, UnknownNameError } from './errors';

/**
 * Named points in a service where an experiment makes it fail. A failpoint fires on exactly the `after`-th time
 * the code passes it (1 = the first pass), then disarms — deterministic, so a run can say "crashed after event 7".
 * `crash` is a real process death (SIGKILL to ourselves): no finally blocks, no graceful shutdown, no flush.
 */
export const FAILPOINT_NAMES = [
  'command.after-commit-before-produce',
  'relay.before-publish',
  'relay.after-publish-before-mark',
  'consumer.after-side-effect-before-commit',
  'consumer.after-commit-before-process',
  'query.before-db-load',
  'query.after-db-load-before-fill',
  'replay.before-publish',
  'tx.before-commit',
] as const;
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

export const FailpointActionSchema = z.object({
  action: z.enum(['crash', 'error', 'delay']),
  /** Fire on the N-th pass (1-based). */
  after: z.number().int().min(1).default(1),
  /** For `delay`: how long to hold. */
  delayMs: z.number().int().min(0).max(600_000).default(0),
  /** Fire on every pass from `after` on, instead of once. */
  sticky: z.boolean().default(false),
  /**
   * Count only the passes that concern this key (a product id, an outbox row's aggregate): a run then holds the one
   * reader or the one relay batch it means, whatever else passes the same point meanwhile.
   */
  key: z.string().min(1).max(64).optional(),
});
export type FailpointAction = z.infer<typeof FailpointActionSchema>;

export class FailpointError extends LabError {
  constructor(name: string) {
    super(`failpoint ${name} fired (action=error)`, { retriable: true });
  }
}

interface Armed extends FailpointAction {
  passes: number;
  fired: number;
}

export class Failpoints {
  private armed = new Map<FailpointName, Armed>();
  /**
   * `onFire` logs; `beforeCrash` may hold the process frozen at the failpoint (bounded) until Prometheus has
   * scraped it once more, so counters incremented just before the crash are not lost to the verdict. Nothing
   * else runs meanwhile (the service refuses new work while frozen), so the data path sees the same crash.
   */
  constructor(
    private readonly onFire: (name: FailpointName, a: FailpointAction) => void = () => {},
    private readonly beforeCrash: () => Promise<void> = async () => {},
  ) {}

  static validName(name: string): FailpointName {
    if (!(FAILPOINT_NAMES as readonly string[]).includes(name))
      throw new UnknownNameError('failpoint', name, FAILPOINT_NAMES);
    return name as FailpointName;
  }

  arm(name: string, action: unknown): FailpointAction {
    const n = Failpoints.validName(name);
    const a = FailpointActionSchema.parse(action ?? {});
    this.armed.set(n, { ...a, passes: 0, fired: 0 });
    return a;
  }

  disarm(name?: string) {
    if (name) this.armed.delete(Failpoints.validName(name));
    else this.armed.clear();
  }

  list() {
    return [...this.armed.entries()].map(([name, a]) => ({
      name,
      action: a.action,
      after: a.after,
      delayMs: a.delayMs,
      sticky: a.sticky,
      ...(a.key !== undefined ? { key: a.key } : {}),
      passes: a.passes,
      fired: a.fired,
    }));
  }

  /** Arms failpoints from env: LAB_FAILPOINTS='relay.after-publish-before-mark=crash@5;query.before-db-load=delay:200@1' */
  armFromSpec(spec: string | undefined) {
    if (!spec) return;
    for (const part of spec
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^([\w.-]+)=(crash|error|delay)(?::(\d+))?(?:@(\d+))?(\+)?$/.exec(part);
      if (!m)
        throw new LabError(
          `bad LAB_FAILPOINTS entry "${part}": expected name=crash|error|delay[:ms][@N][+]`,
        );
      this.arm(m[1], {
        action: m[2],
        delayMs: Number(m[3] ?? 0),
        after: Number(m[4] ?? 1),
        sticky: m[5] === '+',
      });
    }
  }

  /**
   * Mark a pass through `name`; fires the armed action when its count is reached. `keys`: what this pass concerns
   * (a product id, a batch's aggregates); a failpoint armed for a key counts only the passes that include it.
   */
  async hit(name: FailpointName, keys?: readonly string[]): Promise<void> {
    const a = this.armed.get(name);
    if (!a) return;
    if (a.key !== undefined && !keys?.includes(a.key)) return;
    a.passes++;
    const due = a.sticky ? a.passes >= a.after : a.passes === a.after;
    if (!due) return;
    a.fired++;
    if (!a.sticky) this.armed.delete(name);
    this.onFire(name, a);
    switch (a.action) {
      case 'crash':
        await this.beforeCrash();
        // SIGKILL ourselves: the OS reclaims sockets; nothing in flight is flushed or committed.
        process.kill(process.pid, 'SIGKILL');
        await new Promise(() => {}); // never resolves: the kill lands before anything else runs
        break;
      case 'error':
        throw new FailpointError(name);
      case 'delay':
        await new Promise((r) => setTimeout(r, a.delayMs));
        break;
    }
  }
}
