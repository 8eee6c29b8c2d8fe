import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { brokerIds, labPaths, type LabConfig } from '../../lib/config';
import { ProvisionError } from '../../lib/errors';
import { canConnect } from '../ports';
import { jmxAgentJar } from '../provision/kafka-dist';
import type { Component } from './component';

/** Fixed so every node formats its storage into the same cluster (KRaft requires one id cluster-wide). */
export const LAB_CLUSTER_ID = 'ReliabilityLabKRaft0';

const classpath = (c: LabConfig) => path.join(labPaths(c).kafkaLibs, '*');

/**
 * One combined broker+controller node. Three listeners: CLIENT (advertised at its Toxiproxy port, so every
 * fetch/produce after bootstrap still crosses the proxy), INTERNAL (replication, advertised at its own proxy so
 * a leader can be cut from its followers), CONTROLLER (KRaft quorum, direct).
 */
export function serverProperties(c: LabConfig, id: number): string {
  const p = c.ports;
  const h = c.host;
  const i = id - 1;
  const voters = brokerIds(c).map((n) => `${n}@${h}:${p.kafkaController + n - 1}`).join(',');
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': id,
    'controller.quorum.voters': voters,
    'controller.listener.names': 'CONTROLLER',
    listeners: `CLIENT://${h}:${p.kafkaClientUpstream + i},INTERNAL://${h}:${p.kafkaInternalUpstream + i},CONTROLLER://${h}:${p.kafkaController + i}`,
    'advertised.listeners': `CLIENT://${h}:${p.kafkaClient + i},INTERNAL://${h}:${p.kafkaInternal + i}`,
    'listener.security.protocol.map': 'CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name': 'INTERNAL',
    'log.dirs': path.join(labPaths(c).data, `kafka-${id}`),
    // Cluster defaults; experiments override per topic.
    'num.partitions': 3,
    'default.replication.factor': 3,
    'min.insync.replicas': 2,
    'unclean.leader.election.enable': false,
    'auto.create.topics.enable': false,
    'delete.topic.enable': true,
    'offsets.topic.replication.factor': 3,
    'offsets.topic.num.partitions': 6,
    'transaction.state.log.replication.factor': 3,
    'transaction.state.log.min.isr': 2,
    'transaction.state.log.num.partitions': 6,
    'group.initial.rebalance.delay.ms': 0,
    // Small and quick to notice failures: this is a lab on 2 cores, not a production cluster.
    'num.network.threads': 2,
    'num.io.threads': 2,
    'num.replica.fetchers': 1,
    'background.threads': 2,
    'log.cleaner.threads': 1,
    'log.cleaner.dedupe.buffer.size': 8388608,
    'broker.heartbeat.interval.ms': 1000,
    'broker.session.timeout.ms': 6000,
    'replica.lag.time.max.ms': 6000,
    'controller.quorum.election.timeout.ms': 1000,
    'controller.quorum.fetch.timeout.ms': 2000,
    'log.segment.bytes': 16777216,
    'log.retention.check.interval.ms': 60000,
    'share.coordinator.state.topic.replication.factor': 3,
    'share.coordinator.state.topic.min.isr': 2,
  };
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n';
}

const LOG4J2 = `status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
`;

export function kafkaComponents(c: LabConfig): Component[] {
  return brokerIds(c).map((id) => kafkaComponent(c, id));
}

function kafkaComponent(c: LabConfig, id: number): Component {
  const i = id - 1;
  const conf = path.join(labPaths(c).conf, `kafka-${id}.properties`);
  const log4j = path.join(labPaths(c).conf, 'kafka-log4j2.properties');
  const dataDir = path.join(labPaths(c).data, `kafka-${id}`);
  const jmxRules = path.join(c.root, 'prometheus/jmx/kafka-broker.yml');
  return {
    name: `kafka-${id}`,
    ports: [
      { key: 'kafkaClientUpstream', port: c.ports.kafkaClientUpstream + i },
      { key: 'kafkaInternalUpstream', port: c.ports.kafkaInternalUpstream + i },
      { key: 'kafkaController', port: c.ports.kafkaController + i },
      { key: 'kafkaJmx', port: c.ports.kafkaJmx + i },
    ],
    async prepare() {
      fs.mkdirSync(path.dirname(conf), { recursive: true });
      fs.writeFileSync(conf, serverProperties(c, id));
      fs.writeFileSync(log4j, LOG4J2);
      if (fs.existsSync(path.join(dataDir, 'meta.properties'))) return;
      try {
        execFileSync('java', ['-cp', classpath(c), `-Dlog4j2.configurationFile=${log4j}`, 'kafka.tools.StorageTool', 'format', '-t', LAB_CLUSTER_ID, '-c', conf, '--ignore-formatted'], {
          stdio: ['ignore', 'pipe', 'pipe'],
          // 2-5 s on a quiet box, 20-45 s per broker under a load average of 80
          timeout: 300_000,
        });
      } catch (e) {
        const err = e as { stderr?: Buffer; code?: string; signal?: string };
        const why = err.code === 'ETIMEDOUT' || err.signal === 'SIGTERM' ? 'timed out after 300 s (is the box overloaded?)' : String(err.stderr ?? e).slice(0, 600);
        throw new ProvisionError(`formatting KRaft storage of kafka-${id} failed: ${why} — run \`chaos up\` again`, { cause: e });
      }
    },
    spec: () => ({
      name: `kafka-${id}`,
      command: 'java',
      args: [
        `-Xms${c.brokerHeapMb}m`, `-Xmx${c.brokerHeapMb}m`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xss512k',
        '-XX:MaxMetaspaceSize=128m', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${log4j}`,
        `-Dkafka.logs.dir=${labPaths(c).logs}`,
        `-javaagent:${jmxAgentJar(labPaths(c).kafkaLibs)}=${c.host}:${c.ports.kafkaJmx + i}:${jmxRules}`,
        '-cp', classpath(c), 'kafka.Kafka', conf,
      ],
    }),
    healthy: () => canConnect(c.ports.kafkaClientUpstream + i),
    // ~10 s on a quiet box; a broker restarted after kill -9 replays its metadata log, which took 2-4 min on a
    // 2-core box under a load average of 80 (E-009's restarts). Bounded all the same.
    startTimeoutMs: 300_000,
    scrape: { job: 'kafka', target: `${c.host}:${c.ports.kafkaJmx + i}`, labels: { broker: String(id) } },
  };
}
