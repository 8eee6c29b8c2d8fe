import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from '../../lib/errors';
import type { Progress } from '../progress';
import { runTracked, TrackedCommandError } from './tracked-command';

/** The Toxiproxy server binary pinned by the `tool` line of runtime/toxiproxy/go.mod (built or not yet). */
export function toxiproxyBinary(root: string, binDir: string): { version: string; bin: string } {
  const modDir = path.join(root, 'runtime/toxiproxy');
  const version = /github.com\/Shopify\/toxiproxy\/v2 (v[\d.]+)/.exec(fs.readFileSync(path.join(modDir, 'go.mod'), 'utf8'))?.[1] ?? 'unknown';
  return { version, bin: path.join(binDir, `toxiproxy-server-${version}`) };
}

/** A package outside Go's standard library: its first path element has a dot (github.com/…). */
export const isModulePackage = (line: string) => /^[a-z0-9-]+\.[a-z0-9.-]+\//i.test(line.trim());

/**
 * Builds that binary into .lab/bin. `go list -deps` first (it fetches the modules and tells how many packages
 * there are), then `go build -v`, which names each package as it compiles: "n of N packages" with an ETA.
 */
export async function ensureToxiproxy(root: string, binDir: string, progress: Progress): Promise<string> {
  const { version, bin } = toxiproxyBinary(root, binDir);
  if (fs.existsSync(bin)) return bin;
  const cwd = path.join(root, 'runtime/toxiproxy');
  const pkg = 'github.com/Shopify/toxiproxy/v2/cmd/server';
  const env = { ...process.env, GOFLAGS: '-mod=mod' };
  const t0 = Date.now();
  progress.step(`building toxiproxy-server ${version} from the Go module proxy`);
  fs.mkdirSync(binDir, { recursive: true });
  try {
    const listed = await runTracked({ cmd: 'go', args: ['list', '-deps', pkg], cwd, env, timeoutMs: 300_000, label: 'toxiproxy modules', unit: 'modules fetched', onLine: (l, c) => {
      if (/^go: downloading /.test(l)) c.done++;
    } }, progress);
    const total = listed.split('\n').filter(isModulePackage).length;
    await runTracked({ cmd: 'go', args: ['build', '-v', '-o', bin, pkg], cwd, env, timeoutMs: 540_000, label: 'toxiproxy packages compiled', unit: 'packages', total, onLine: (l, c) => {
      if (isModulePackage(l)) c.done++;
    } }, progress);
  } catch (e) {
    const out = e instanceof TrackedCommandError ? e.output : '';
    throw new ProvisionError(
      `go build of toxiproxy ${version} failed (${(e as Error).message}): ${out.slice(-500)}\nfix: check GOPROXY reaches the Go module proxy (go env GOPROXY)`,
      { cause: e },
    );
  }
  progress.done(`toxiproxy-server ${version}`, t0);
  return bin;
}
