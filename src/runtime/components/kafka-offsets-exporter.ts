import * as fs from 'node:fs';
import * as path from 'node:path';
import { portEnvVar, type LabConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import type { Component } from './component';

/**
 * Our own exporter (src/exporters/kafka-offsets): lab_kafka_partition_hw / _lso / _log_start_offset per partition
 * of the lab.* topics, read at scrape time. It is a Kafka client like any other, so it reaches the brokers through
 * their Toxiproxy listeners (they advertise nothing else): under a Kafka toxic its scrapes may time out, and it
 * then reports lab_kafka_offsets_up 0 with no offsets rather than old ones.
 */
export function kafkaOffsetsExporterComponent(c: LabConfig): Component {
  const port = c.ports.kafkaOffsetsExporter;
  const entry = path.join(c.root, 'dist', 'src', 'exporters', 'kafka-offsets', 'main.js');
  return {
    name: 'kafka-offsets-exporter',
    ports: [{ key: 'kafkaOffsetsExporter', port }],
    async prepare() {
      if (!fs.existsSync(entry)) throw new ConfigError(`${entry} is missing: run \`npm run build\``);
    },
    spec: () => ({
      name: 'kafka-offsets-exporter',
      command: process.execPath,
      args: [entry],
      cwd: c.root,
      // The ports this process was configured with, whatever mix of LAB_PORT_OFFSET and LAB_*_PORT produced them.
      env: { [portEnvVar('kafkaOffsetsExporter')]: String(port), [portEnvVar('kafkaClient')]: String(c.ports.kafkaClient) },
    }),
    healthy: async () => (await fetch(`http://${c.host}:${port}/health`, { signal: AbortSignal.timeout(1500) })).ok,
    startTimeoutMs: 20_000,
    // Slower than the 1 s default: a scrape is ~7 requests to the brokers; 2 s still gives several samples while a
    // transaction is held open for a few seconds.
    scrape: { job: 'kafka-offsets', target: `${c.host}:${port}`, interval: '2s', timeout: '1800ms' },
  };
}
