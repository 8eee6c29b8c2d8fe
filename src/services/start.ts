import type { Kafka, Producer } from 'kafkajs';
import type { Pool, PoolOptions } from 'mysql2/promise';
import type { LabConfig } from '../lib/config';
import { labPool } from '../lib/db';
import { dlqTopic } from '../lib/events';
import { labKafka } from '../lib/kafka';
import { serviceRegistry } from '../lib/metrics';
import { ensureTopics } from '../lib/topics';
import { serviceContext, type ServiceContext } from './common/app';

/** What a Kafka + MariaDB service's main opens before it builds its own parts. */
export interface ServiceBase {
  ctx: ServiceContext;
  pool: Pool;
  kafka: Kafka;
}

export interface ServiceBaseOptions {
  /** the service's name: its logs, its metrics registry, /health */
  name: string;
  lab: LabConfig;
  /** the domain topic: it and its DLQ are created if missing */
  topic: string;
  kafkaClientId: string;
  pool?: PoolOptions;
  health?: ServiceContext['health'];
}

/** The start-up every Kafka service shares: DB pool, Kafka client, service context, the topic and its DLQ. */
export async function startServiceBase(o: ServiceBaseOptions): Promise<ServiceBase> {
  const pool = labPool(o.lab, o.pool);
  const kafka = labKafka(o.lab, o.kafkaClientId);
  const ctx = serviceContext(o.name, serviceRegistry(o.name), o.health);
  await ensureTopics(kafka, [o.topic, dlqTopic(o.topic)]);
  return { ctx, pool, kafka };
}

/**
 * A connected producer sending with acks=all: idempotent with one request in flight, so a retried send after a
 * lost ack does not duplicate, and broker-side retries neither duplicate nor reorder within a batch.
 */
export async function connectedIdempotentProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await producer.connect();
  return producer;
}

/** Runs a service's main; a failure to start is one line on stderr and exit code 1. */
export function runService(name: string, main: () => Promise<void>): void {
  main().catch((e) => {
    console.error(`${name} failed to start: ${(e as Error).message}`);
    process.exit(1);
  });
}
