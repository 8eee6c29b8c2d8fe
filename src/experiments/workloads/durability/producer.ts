import { bestEffort } from '../../../lib/best-effort';
import type { Producer } from 'kafkajs';
import type { LabConfig } from '../../../lib/config';
import { labKafka } from '../../../lib/kafka';
import { sleep } from '../../../lib/wait';
import { ackValue, type Acks } from './params';

/**
 * What the producer was told about one write. `acked`: the broker acknowledged it. `sent`: acks=0 — it left the
 * client and no broker answers, so nothing was promised and its absence is no loss of an acknowledged write. `rejected`: the broker refused it before writing (NOT_ENOUGH_REPLICAS). `failed`: anything else (timeout,
 * leader gone, NOT_ENOUGH_REPLICAS_AFTER_APPEND): the write may or may not be in the log.
 */
export type WriteOutcome = 'acked' | 'sent' | 'rejected' | 'failed';

export interface Write {
  seq: number;
  outcome: WriteOutcome;
  /** the offset the broker acknowledged (acks≥1), or null */
  offset: string | null;
  error?: string;
  atMs: number;
}

/** Errors a broker answers only when it did not append the write. */
const REFUSED = new Set(['NOT_ENOUGH_REPLICAS']);

/** The broker's error code under kafkajs' wrappers (retries exceeded → original error → …), else the outermost name. */
export function errorType(e: unknown): string {
  type Err = { type?: string; name?: string; cause?: Err; originalError?: Err; errors?: Err[] };
  for (let err = e as Err | undefined, depth = 0; err && depth < 6; depth++) {
    if (err.type) return err.type;
    err = err.originalError ?? err.cause ?? err.errors?.[0];
  }
  return (e as Err).name ?? 'Error';
}

/**
 * A raw kafkajs producer writing seq 1, 2, 3… as key `seq` to one topic, one record per request, paced to
 * `ratePerSec`, until stopped. Not idempotent (acks 0/1 cannot be), so its own retries can duplicate.
 */
export class CellProducer {
  readonly writes: Write[] = [];
  private stopped = false;
  private loop?: Promise<void>;
  private producer: Producer;

  constructor(
    c: LabConfig,
    readonly topic: string,
    private readonly o: {
      acks: Acks;
      ratePerSec: number;
      ackTimeoutMs: number;
      retries: number;
      t0: number;
      label: string;
    },
  ) {
    const kafka = labKafka(c, `e009-${o.label}`, {
      requestTimeout: o.ackTimeoutMs + 2000,
      retry: { retries: o.retries, initialRetryTime: 200, maxRetryTime: 1000 },
    });
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      retry: { retries: o.retries, initialRetryTime: 200, maxRetryTime: 1000 },
    });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    this.loop = this.run();
  }

  private async run() {
    const gapMs = 1000 / this.o.ratePerSec;
    let next = Date.now();
    for (let seq = 1; !this.stopped; seq++) {
      const atMs = Date.now() - this.o.t0;
      try {
        const md = await this.producer.send({
          topic: this.topic,
          acks: ackValue(this.o.acks),
          timeout: this.o.ackTimeoutMs,
          messages: [{ key: String(seq), value: JSON.stringify({ seq, at: atMs }) }],
        });
        this.writes.push({
          seq,
          outcome: this.o.acks === 0 ? 'sent' : 'acked',
          offset: this.o.acks === 0 ? null : (md[0]?.baseOffset ?? null),
          atMs,
        });
      } catch (e) {
        const type = errorType(e);
        this.writes.push({
          seq,
          outcome: REFUSED.has(type) ? 'rejected' : 'failed',
          offset: null,
          error: type,
          atMs,
        });
      }
      next += gapMs;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now(); // behind (a slow ack): no burst to catch up
    }
  }

  /** Stops sending; a send still waiting on a dead broker is cut short by the disconnect (it counts as failed). */
  async stop(graceMs = 3000): Promise<void> {
    this.stopped = true;
    await Promise.race([bestEffort(this.loop, 'the cell producer loop'), sleep(graceMs)]);
    await bestEffort(this.producer.disconnect(), 'disconnecting a cell producer');
    await Promise.race([bestEffort(this.loop, 'the cell producer loop'), sleep(graceMs)]);
  }
}
