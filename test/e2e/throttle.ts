/**
 * Slow-machine and slow-network profiles through the Chrome DevTools Protocol, so browser tests
 * can reproduce what a user on a weak laptop or a phone on 4G sees.
 */
import type { CDPSession, Page } from 'playwright-core';

/** A 4G-class phone link: ~9 Mbit/s down, ~3 Mbit/s up, 150 ms round trip. */
export const FOUR_G = { latency: 150, downloadThroughput: (9 * 1024 * 1024) / 8, uploadThroughput: (3 * 1024 * 1024) / 8 } as const;

export interface Throttle {
  cdp: CDPSession;
  /** Removes every throttle set through this session. */
  off(): Promise<void>;
}

export async function throttle(page: Page, opts: { cpuRate?: number; network?: typeof FOUR_G }): Promise<Throttle> {
  const cdp = await page.context().newCDPSession(page);
  if (opts.cpuRate) await cdp.send('Emulation.setCPUThrottlingRate', { rate: opts.cpuRate });
  if (opts.network) {
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...opts.network });
  }
  return {
    cdp,
    async off() {
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 }).catch(() => undefined);
      if (opts.network) {
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 }).catch(() => undefined);
      }
      await cdp.detach().catch(() => undefined);
    },
  };
}
