import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { kafkaBootstrap, type LabConfig } from './config';

/** A kafkajs client bootstrapped through the brokers' Toxiproxy listeners. */
export function labKafka(
  c: Pick<LabConfig, 'host' | 'ports' | 'brokerCount'>,
  clientId: string,
  extra: Partial<KafkaConfig> = {},
): Kafka {
  return new Kafka({
    clientId,
    brokers: kafkaBootstrap(c as LabConfig),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 15000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
    ...extra,
  });
}
