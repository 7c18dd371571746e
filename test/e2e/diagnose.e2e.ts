/**
 * End to end through the real UI: code-server with the extension under development, driven by
 * Playwright in headless Chromium. F1 → "Diagnose Activations" on deep_sigmoid.py → CodeLens
 * and Problems rows appear → Ctrl+. applies the verified swap. Screenshots go to
 * test-results/e2e/. Run: `npm run test:e2e` (builds first).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, checkChromium, startCodeServer } from '../../scripts/vscodeHost/host.js';

const repo = path.resolve(__dirname, '..', '..');
const out = path.join(repo, 'test-results', 'e2e');
const steps: { name: string; ok: boolean; info?: string; s: string }[] = [];
const t0 = Date.now();

function step(name: string, ok: boolean, info?: string): void {
  const s = ((Date.now() - t0) / 1000).toFixed(1);
  steps.push({ name, ok, info, s });
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${info ? ` — ${info}` : ''} (${s} s)`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(out, `${name}.png`) });
}

async function drive(page: Page): Promise<void> {
  await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'deep_sigmoid.py' }).first();
  await row.waitFor({ timeout: 60_000 });
  step('workbench', true);
  await row.dblclick();
  await page.waitForSelector('.monaco-editor .view-lines', { timeout: 30_000 });
  const beforeLens = page.locator('.monaco-editor .codelens-decoration', { hasText: 'Diagnose activations' });
  await beforeLens.first().waitFor({ timeout: 60_000 });
  step('open file, lens before a run', true, (await beforeLens.first().innerText()).trim());
  await shot(page, '01-before');

  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type('Activation Lens: Diagnose Activations');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Diagnose Activations' }).first().waitFor({ timeout: 15_000 });
  await shot(page, '02-palette');
  await page.keyboard.press('Enter');
  step('command palette', true);

  const verifiedLens = page.locator('.monaco-editor .codelens-decoration', { hasText: '(verified)' });
  await verifiedLens.first().waitFor({ timeout: 180_000 });
  const summaryLens = page.locator('.monaco-editor .codelens-decoration', { hasText: 'findings' });
  step('CodeLens after the run', true, `"${(await summaryLens.first().innerText()).trim()}" / "${(await verifiedLens.first().innerText()).trim()}"`);
  await shot(page, '03-codelens');

  await page.keyboard.press('Control+Shift+M');
  const marker = page.locator('.markers-panel .monaco-list-row', { hasText: 'Vanishing gradient' });
  await marker.first().waitFor({ timeout: 30_000 });
  step('Problems rows', true, `${await page.locator('.markers-panel .monaco-list-row').count()} rows, e.g. "${(await marker.first().innerText()).replace(/\s+/g, ' ').slice(0, 120)}"`);
  await shot(page, '04-problems');

  // The charted report from the command palette: the first four charts must paint.
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible' });
  await page.keyboard.type('Activation Lens: Show Report');
  const showReport = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show Report' }).filter({ hasNotText: 'as Text' }).first();
  await showReport.waitFor({ timeout: 15_000 });
  await showReport.click();
  const report = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
  await report.locator('body[data-rendered="true"]').waitFor({ timeout: 60_000 });
  const painted: string[] = [];
  for (const id of ['flow-model', 'steps-model', 'fractions-model', 'loss-model']) {
    const pixels = await report.locator(`#${id}`).evaluate((c) => {
      const canvas = c as HTMLCanvasElement;
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data ?? new Uint8ClampedArray();
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    });
    if (pixels < 1000) throw new Error(`report chart ${id} is blank (${pixels} painted pixels)`);
    painted.push(`${id} ${pixels}px`);
  }
  step('report charts paint', true, painted.join(', '));
  await shot(page, '045-report');

  // Put the cursor on the layer line, then Ctrl+. and pick the verified swap.
  await page.locator('.monaco-editor .view-line', { hasText: 'activation="sigmoid"' }).first().click();
  await page.keyboard.press('Control+.');
  const fix = page.locator('.action-widget .monaco-list-row', { hasText: /switch to (ReLU|ELU)/ }).first();
  await fix.waitFor({ timeout: 30_000 });
  await shot(page, '05-quickfix');
  const title = (await fix.innerText()).trim();
  // The preferred (verified) fix is focused first.
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .view-line', { hasText: 'kernel_initializer="he_normal"' }).first().waitFor({ timeout: 30_000 });
  step('Ctrl+. applies the swap', true, title.slice(0, 120));
  // The edit makes the results stale: their rows leave the Problems panel, the lens offers a re-run.
  await page.locator('.monaco-editor .codelens-decoration', { hasText: 'again' }).first().waitFor({ timeout: 30_000 });
  await page.locator('.markers-panel .monaco-list-row', { hasText: 'Vanishing gradient' }).first().waitFor({ state: 'detached', timeout: 30_000 });
  step('stale results cleared', true);
  await shot(page, '06-fixed');
}

async function main(): Promise<number> {
  fs.mkdirSync(out, { recursive: true });
  const chromiumPath = checkChromium();
  const host = await startCodeServer({ workspace: path.join(repo, 'test', 'fixtures', 'workspace'), label: 'e2e' });
  let browser: Browser | undefined;
  try {
    const authority = `127.0.0.1:${host.port}`;
    const payload = [['extensionDevelopmentPath', `vscode-remote://${authority}${repo}`]];
    const url = `${host.url}/?folder=${encodeURIComponent(host.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: [...CHROMIUM_ARGS] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => {
      if (m.type() === 'error') fs.appendFileSync(path.join(out, 'console.log'), `${m.text()}\n`);
    });
    await page.goto(url);
    try {
      await drive(page);
    } catch (error) {
      step('error', false, (error as Error).message.split('\n')[0]);
      await shot(page, '99-error').catch(() => undefined);
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await host.stop();
    if (!process.env.KEEP_TEMP) fs.rmSync(host.root, { recursive: true, force: true });
  }
  fs.writeFileSync(path.join(out, 'results.json'), JSON.stringify(steps, null, 1));
  const ok = steps.length > 0 && steps.every((s) => s.ok);
  console.log(`e2e: ${ok ? 'passed' : 'FAILED'} in ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${path.relative(repo, out)}/`);
  return ok ? 0 : 1;
}

main().then((code) => process.exit(code), (error: Error) => {
  console.error(`e2e: ${error.stack ?? error.message}`);
  process.exit(1);
});
