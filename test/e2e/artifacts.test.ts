/**
 * Artifacts in the browser against a real `crucible serve`: a program writes a PNG (plain Python:
 * zlib + struct, standing in for a matplotlib plot) and an HTML file to /sandbox/out; the run
 * view and the detail page list both, show the PNG as a picture, and offer every file for
 * download. Then a real matplotlib plot from the python-data environment (skipped when it is not
 * built here). Screenshots go to test-artifacts/screenshots/.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { rootfsResolver } from '../../src/sandbox/environments/rootfs.js';
import { MATPLOTLIB_PLOT } from '../sandbox/fixtures/matplotlib-plot.js';
import { PNG_WRITER } from '../sandbox/fixtures/png-writer.js';
import { screenshotPath } from './browser.js';
import type { RunningServer } from './crucible-server.js';
import { runDraft } from './run-draft.js';
import { e2eSession } from './session.js';

const PROGRAM = `${PNG_WRITER}
import os
write_png(os.environ["CRUCIBLE_OUTPUT_DIR"] + "/plot.png", size=64)
open("/sandbox/out/report.html", "w").write("<h1>report</h1><script>alert(1)</script>")
print("plotted")
`;

const session = e2eSession();
let server: RunningServer;
let page: Page;
beforeAll(() => ({ server, page } = session));

/** The image has arrived and decoded (naturalWidth is 0 until then, and for a broken image). */
async function imageWidth(page: Page, alt: string): Promise<number> {
  const img = page.getByRole('img', { name: alt });
  await img.waitFor();
  await page.waitForFunction((a) => {
    const el = document.querySelector(`img[alt="${a}"]`) as HTMLImageElement | null;
    return el !== null && el.complete;
  }, alt);
  return img.evaluate((el) => (el as HTMLImageElement).naturalWidth);
}

async function checkArtifacts(page: Page, id: string): Promise<void> {
  const panel = page.getByTestId('artifacts');
  await panel.waitFor();
  const items = panel.getByTestId('artifact');
  expect(await items.count()).toBe(2);
  expect(await items.nth(0).textContent()).toContain('plot.png');
  expect(await items.nth(1).textContent()).toContain('report.html');
  expect(await imageWidth(page, 'plot.png')).toBe(64);
  // HTML is offered for download only, never rendered.
  expect(await panel.getByRole('img', { name: 'report.html' }).count()).toBe(0);
  const links = panel.getByRole('link', { name: 'Download' });
  expect(await links.nth(0).getAttribute('href')).toBe(`/api/evaluations/${id}/artifacts/plot.png`);
  expect(await links.nth(1).getAttribute('href')).toBe(`/api/evaluations/${id}/artifacts/report.html`);
  expect(await links.nth(1).getAttribute('download')).toBe('report.html');
}

describe('artifacts in the web UI', () => {
  it('shows a plot written by the program inline on the run view and the detail page, every file downloadable', async () => {
    await page.goto(`${server.url}/`);
    const id = await runDraft(page, { code: PROGRAM, tags: ['e2e-artifacts'] });
    await checkArtifacts(page, id);
    await page.getByTestId('artifacts').screenshot({ path: screenshotPath('artifacts-run-view') });

    // The download link serves the bytes the list describes.
    const download = await page.evaluate(async (url) => {
      const res = await fetch(url);
      return { type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), size: (await res.arrayBuffer()).byteLength };
    }, `/api/evaluations/${id}/artifacts/report.html`);
    expect(download.type).toBe('text/plain; charset=utf-8');
    expect(download.disposition).toMatch(/^attachment;/);
    expect(download.size).toBe(40);

    await page.goto(`${server.url}/evaluations/${id}`);
    await checkArtifacts(page, id);
    await page.screenshot({ path: screenshotPath('artifacts-detail-page'), fullPage: true });
  }, 90_000);

  it("shows a real matplotlib plot from the python-data environment in the run's artifacts panel", async (ctx) => {
    if (!rootfsResolver()('python-data')) ctx.skip('the python-data environment is not built on this host (crucible env build python-data)');
    await page.goto(`${server.url}/`);
    await runDraft(page, { code: MATPLOTLIB_PLOT.code, tags: ['e2e-artifacts'], environment: 'python-data', timeout_s: 60 }, 60_000);
    // The run view may still show the previous test's run (two artifacts, a 64 px plot) until this
    // one's result replaces it: wait for this plot, decoded.
    await page.waitForFunction(
      (width) => {
        const img = document.querySelector('[data-testid="artifacts"] img[alt="plot.png"]') as HTMLImageElement | null;
        return document.querySelectorAll('[data-testid="artifact"]').length === 1 && img?.complete === true && img.naturalWidth === width;
      },
      MATPLOTLIB_PLOT.width,
      { timeout: 60_000 },
    );
    const panel = page.getByTestId('artifacts');
    expect(await panel.getByTestId('artifact').count()).toBe(1);
    expect(await imageWidth(page, 'plot.png')).toBe(MATPLOTLIB_PLOT.width);
    await panel.screenshot({ path: screenshotPath('artifacts-matplotlib') });
  }, 120_000);
});
