import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ProvisionError } from '../../lib/errors';
import type { Progress } from '../progress';

/** Builds the Toxiproxy server pinned by the `tool` line of runtime/toxiproxy/go.mod into .lab/bin. */
export function ensureToxiproxy(root: string, binDir: string, progress: Progress): string {
  const modDir = path.join(root, 'runtime/toxiproxy');
  const version = /github.com\/Shopify\/toxiproxy\/v2 (v[\d.]+)/.exec(fs.readFileSync(path.join(modDir, 'go.mod'), 'utf8'))?.[1] ?? 'unknown';
  const bin = path.join(binDir, `toxiproxy-server-${version}`);
  if (fs.existsSync(bin)) return bin;
  const t0 = Date.now();
  progress.step(`building toxiproxy-server ${version} from the Go module proxy`);
  fs.mkdirSync(binDir, { recursive: true });
  try {
    execFileSync('go', ['build', '-o', bin, 'github.com/Shopify/toxiproxy/v2/cmd/server'], {
      cwd: modDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 540_000,
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    });
  } catch (e) {
    throw new ProvisionError(
      `go build of toxiproxy ${version} failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).slice(0, 500)}\nfix: check GOPROXY reaches the Go module proxy (go env GOPROXY)`,
      { cause: e },
    );
  }
  progress.done(`toxiproxy-server ${version}`, t0);
  return bin;
}
