import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { registryApp } from '../../src/registry/http';
import { schemaRegistry } from '../../src/registry/registry';
import { FileStore } from '../../src/registry/store';

export interface RunningRegistry {
  url: string;
  dir: string;
  /** plain HTTP with Confluent's content type, as curl or a serializer sends it */
  call: (
    method: string,
    p: string,
    body?: unknown,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the Confluent body shape it asserts
  ) => Promise<{ status: number; json: any; text: string }>;
  close: () => void;
}

/** The lab's registry on a free port over a fresh state file: each test starts from an empty registry. */
export async function startRegistry(): Promise<RunningRegistry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-registry-'));
  const server = registryApp(schemaRegistry(new FileStore(path.join(dir, 'registry.json')))).listen(
    0,
    '127.0.0.1',
  );
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const call = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers:
        body === undefined ? {} : { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };
  return {
    url,
    dir,
    call,
    close: () => {
      server.closeAllConnections();
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
