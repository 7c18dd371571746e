/**
 * Entry of the integration suite inside the extension host (extensionTestsPath): runs every
 * *.test.js bundle beside it with mocha and writes the outcome to $ACTIVATION_LENS_TEST_RESULTS
 * (the runner prints it; the extension host's console is not visible from outside).
 * Under @vscode/test-cli (.vscode-test.mjs), that tool loads the same *.test.js files itself.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

interface TestRecord {
  readonly title: string;
  readonly state: 'passed' | 'failed' | 'pending';
  readonly ms?: number;
  readonly error?: string;
}

export function run(): Promise<void> {
  const resultsFile = process.env.ACTIVATION_LENS_TEST_RESULTS;
  const mocha = new Mocha({ ui: 'tdd', timeout: 90_000, color: false, reporter: 'spec', grep: process.env.ACTIVATION_LENS_TEST_GREP });
  for (const file of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
    mocha.addFile(path.join(__dirname, file));
  }
  const records: TestRecord[] = [];
  const write = (summary: string) => {
    if (resultsFile) fs.writeFileSync(resultsFile, JSON.stringify({ summary, tests: records }, null, 1));
  };
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const passed = records.filter((r) => r.state === 'passed').length;
        write(`${passed} passing, ${failures} failing, ${records.filter((r) => r.state === 'pending').length} pending`);
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else resolve();
      });
      runner.on('pass', (t) => records.push({ title: t.fullTitle(), state: 'passed', ms: t.duration }));
      runner.on('fail', (t, error: Error) => records.push({ title: t.fullTitle(), state: 'failed', ms: t.duration, error: `${error?.message}\n${error?.stack ?? ''}` }));
      runner.on('pending', (t) => records.push({ title: t.fullTitle(), state: 'pending' }));
    } catch (error) {
      write(`could not start: ${(error as Error).message}`);
      reject(error);
    }
  });
}
