import * as path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../lib/errors';
import { registryApp } from './http';
import { schemaRegistry } from './registry';
import { FileStore } from './store';

/**
 * The lab's schema registry (`chaos up` runs it as the `schema-registry` component): Confluent's REST API and
 * compatibility rules for Avro, state in a JSON file. Why not Karapace or Apicurio: experiments/E-006-…/README.md.
 */
function main() {
  const env = z
    .object({
      REGISTRY_HOST: z.string().default('127.0.0.1'),
      REGISTRY_PORT: z.coerce.number().int().min(1024).max(65535),
      REGISTRY_DATA: z.string().min(1),
    })
    .safeParse(process.env);
  if (!env.success)
    throw new ConfigError(
      `schema-registry: ${env.error.issues.map((i) => `${i.path.join('.')}=${String(process.env[i.path.join('.')])}: ${i.message}`).join('; ')} (set by \`chaos up\`)`,
    );
  const { REGISTRY_HOST: host, REGISTRY_PORT: port, REGISTRY_DATA: dir } = env.data;
  const app = registryApp(schemaRegistry(new FileStore(path.join(dir, 'registry.json'))));
  const server = app.listen(port, host, () =>
    console.log(`schema-registry listening on http://${host}:${port}`),
  );
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

try {
  main();
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
