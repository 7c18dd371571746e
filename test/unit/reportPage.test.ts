/// <reference lib="dom" />
/**
 * The exported report in a real browser (Debian's Chromium through playwright-core): the first
 * four charts paint, the table shows the CLI JSON's numbers, and light and dark screenshots are
 * kept in test-results/. Skipped, with the reason, where Chromium is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { formatNumber } from '../../webview/chartData';

const ROOT = path.join(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const ARTEFACTS = path.join(ROOT, 'test-results');
// In CI (CI=true) a missing Chromium is a failure, not a skip: .ci/run installs it.
const skip = fs.existsSync(CHROMIUM) || process.env.CI ? undefined : `${CHROMIUM} not found (apt-get install chromium)`;

test('the exported report paints its charts and its table matches the JSON', { skip }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'al-report-'));
  const html = path.join(dir, 'report.html');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/activation-lens.js'), 'diagnose', 'examples/deep_sigmoid.py', '--steps', '30', '--report', html], { cwd: ROOT, encoding: 'utf8' });
  assert.ok(fs.existsSync(html), r.stderr);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${html}`);
    await page.waitForSelector('body[data-rendered="true"]');
    assert.deepEqual(errors, []);
    // Non-blank canvas: some pixel with alpha > 0 in the drawing.
    for (const id of ['flow-model', 'steps-model', 'fractions-model', 'loss-model']) {
      const painted = await page.$eval(`#${id}`, (c) => {
        const canvas = c as HTMLCanvasElement;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return n;
      });
      assert.ok(painted > 1000, `${id}: ${painted} painted pixels`);
    }
    const rows = await page.$$eval('#table-model tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent ?? '')));
    const layers = json.models[0].layers as Array<Record<string, number | string | null>>;
    assert.equal(rows.length, layers.length);
    rows.forEach((cells, i) => {
      const l = layers[i];
      assert.deepEqual(cells.slice(0, 4), [String(l.index), l.name, String(l.line), l.activation]);
      const numbers = [l.gradNorm, l.gradRatioToLast, l.saturatedFraction, l.deadFraction, l.inactiveFraction, l.mean, l.std].map((v) => formatNumber(v as number | null));
      assert.deepEqual(cells.slice(4), numbers, `layer ${i}`);
    });
    fs.mkdirSync(ARTEFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTEFACTS, 'report-light.png'), fullPage: true });
    // Dark theme: VS Code's variables on the body and a class change, which re-renders.
    await page.addStyleTag({ content: 'body.vscode-dark { --vscode-foreground: #cccccc; --vscode-editor-background: #1e1e1e; --vscode-editorWidget-border: #454545; }' });
    await page.evaluate(() => document.body.classList.add('vscode-dark'));
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(ARTEFACTS, 'report-dark.png'), fullPage: true });
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
