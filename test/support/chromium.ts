import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/**
 * Debian's Chromium for Playwright (playwright-core downloads no browser). Installs the `chromium` package when
 * missing and we are root; returns undefined with the reason only when it truly cannot be had.
 */
export function locateChromium(): { path?: string; why?: string } {
  const found = () => CANDIDATES.find((p) => fs.existsSync(p));
  if (found()) return { path: found() };
  if (process.getuid?.() !== 0)
    return {
      why: 'chromium is not installed and we are not root: run `sudo apt-get install -y chromium`',
    };
  try {
    execFileSync(
      'sh',
      ['-c', 'apt-get update -q && apt-get install -y -q --no-install-recommends chromium'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        timeout: 300_000,
      },
    );
  } catch (e) {
    return {
      why: `apt-get install chromium failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).slice(0, 300)}`,
    };
  }
  return found()
    ? { path: found() }
    : { why: 'apt-get installed chromium but no /usr/bin/chromium appeared' };
}
