import { createServer } from 'node:http';
import { refuseRequest } from '../../lib/http-guard';
import { labKafka } from '../../lib/kafka';
import { OffsetsCollector } from './collector';
import { loadExporterConfig } from './config';
import { offsetMetrics } from './metrics';

/**
 * kafka-offsets-exporter: the HW and LSO of every partition of the lab's topics, for Prometheus. The brokers' JMX
 * exposes the log end offset but neither the high watermark nor the last stable offset, and the difference between
 * the two is exactly what an open transaction holds back from read_committed consumers (E-007).
 * Started and supervised by `chaos up` (src/runtime/components/kafka-offsets-exporter.ts).
 */
async function main() {
  const cfg = loadExporterConfig();
  // No retries inside a scrape: a failed read answers kafka_offsets_up 0 now, and the next scrape tries afresh.
  const kafka = labKafka(cfg.lab, 'lab-kafka-offsets-exporter', {
    retry: { retries: 0 },
    requestTimeout: cfg.timeoutMs,
    connectionTimeout: Math.min(3000, cfg.timeoutMs),
  });
  const collector = new OffsetsCollector(kafka, cfg);
  const metrics = offsetMetrics();
  const server = createServer((req, res) => {
    if (refuseRequest(req, res)) return; // Prometheus scrapes 127.0.0.1:<port>; any other Host is misdirected (421)
    if (req.url === '/health') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'ok', pid: process.pid }));
      return;
    }
    if (req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics or /health\n');
      return;
    }
    metrics
      .render(() => collector.collect())
      .then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
      );
  });
  server.listen(cfg.port, cfg.lab.host, () =>
    console.log(
      JSON.stringify({
        msg: 'kafka-offsets-exporter listening',
        port: cfg.port,
        pid: process.pid,
        maxTopics: cfg.maxTopics,
        timeoutMs: cfg.timeoutMs,
      }),
    ),
  );
  const stop = () => {
    server.close();
    void collector.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(`kafka-offsets-exporter: ${(e as Error).message}`);
  process.exit(1);
});
