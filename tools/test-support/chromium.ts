// Headless Chromium for tests that check an HTML report really renders. Absent: the caller skips with
// the reason printed here; under CI=true its absence is a failure (CI installs it, see the README).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { warnSkip } from './shared.js';

export const CHROMIUM = '/usr/bin/chromium';

/** The Chromium binary, or null (with a printed reason) when it is not installed; throws under CI=true. */
export function chromiumPath(): string | null {
  if (fs.existsSync(CHROMIUM)) return CHROMIUM;
  const reason = `${CHROMIUM} is absent (apt-get install -y chromium)`;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${reason}`);
  warnSkip(`the report rendering test: ${reason}`);
  return null;
}

/**
 * The DOM of a local HTML file after its scripts ran (virtual time up to 15 s), from a fresh profile,
 * with the flags this closed network needs (no background networking, no component updates).
 */
export function dumpDom(file: string): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'prunekit-chromium-'));
  try {
    return execFileSync(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--virtual-time-budget=15000', '--dump-dom', `file://${file}`,
    ], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] });
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}
