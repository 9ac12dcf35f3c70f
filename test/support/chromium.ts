import { existsSync } from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's chromium, which setup.sh installs when run as root. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why browser tests cannot run here; undefined when they can (only a non-root run may lack the package). */
export const chromiumSkipReason =
  existsSync(CHROMIUM) || process.getuid?.() === 0
    ? undefined
    : `${CHROMIUM} is missing and this is not root: apt-get install -y --no-install-recommends chromium`;

/**
 * Headless Chromium with a fresh profile in `profileDir`, started so that it makes no connection
 * of its own (background networking, component updates, sync, QUIC off): this machine has no
 * network beyond loopback.
 */
export function launchChromium(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}
