import * as fs from 'node:fs';
import * as path from 'node:path';
import { labPaths, type LabConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import type { Component } from './component';

export const schemaRegistryUrl = (c: LabConfig) => `http://${c.host}:${c.ports.schemaRegistry}`;

/**
 * The Confluent-compatible schema registry (src/registry), run by this Node.js from dist/. Clients reach it
 * directly: it is a control-plane dependency of producers and consumers, not a data path the experiments cut.
 */
export function schemaRegistryComponent(c: LabConfig): Component {
  const dir = path.join(labPaths(c).data, 'schema-registry');
  const entry = path.join(c.root, 'dist', 'src', 'registry', 'main.js');
  return {
    name: 'schema-registry',
    ports: [{ key: 'schemaRegistry', port: c.ports.schemaRegistry }],
    async prepare() {
      if (!fs.existsSync(entry)) throw new ConfigError(`${entry} is missing: run \`npm run build\``);
      fs.mkdirSync(dir, { recursive: true });
    },
    spec: () => ({
      name: 'schema-registry',
      command: process.execPath,
      args: [entry],
      env: { REGISTRY_HOST: c.host, REGISTRY_PORT: String(c.ports.schemaRegistry), REGISTRY_DATA: dir },
    }),
    healthy: async () => (await fetch(`${schemaRegistryUrl(c)}/subjects`, { signal: AbortSignal.timeout(1000) })).ok,
    startTimeoutMs: 15_000,
    scrape: { job: 'schema-registry', target: `${c.host}:${c.ports.schemaRegistry}` },
  };
}
