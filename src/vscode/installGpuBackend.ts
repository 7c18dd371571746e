/**
 * "Install GPU Backend": installs @tensorflow/tfjs-node-gpu into the extension's global storage
 * with npm, where the trainer looks for optional backends first. Its install step downloads
 * libtensorflow (with CUDA) from storage.googleapis.com, so it needs that host and an NVIDIA
 * driver; when either is missing the command says so instead of failing obscurely.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { explainInstallFailure } from '../engine/installHelp';

/** The package version matching the bundled TensorFlow.js. */
const PACKAGE = '@tensorflow/tfjs-node-gpu@4.22.0';

function hasNvidiaDriver(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-L'], { timeout: 10_000 }, (error, stdout) => resolve(!error && /GPU \d/.test(stdout)));
  });
}

export async function installGpuBackend(storage: vscode.Uri): Promise<boolean> {
  if (!(await hasNvidiaDriver())) {
    void vscode.window.showWarningMessage(
      'Activation Lens: no NVIDIA GPU was found (nvidia-smi is missing or lists no GPU). The GPU backend needs an NVIDIA GPU with CUDA; the bundled WebAssembly backend keeps working.',
    );
    return false;
  }
  const prefix = storage.fsPath;
  fs.mkdirSync(prefix, { recursive: true });
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Activation Lens: installing ${PACKAGE}`, cancellable: true },
    (progress, token) =>
      new Promise<boolean>((resolve) => {
        const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
        const child = spawn(npm, ['install', '--no-audit', '--no-fund', '--prefix', prefix, PACKAGE], { cwd: prefix, shell: false });
        let output = '';
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const line = chunk.toString().trim().split('\n').pop();
          if (line) progress.report({ message: line.slice(0, 120) });
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        token.onCancellationRequested(() => child.kill());
        child.on('error', (error) => {
          void vscode.window.showErrorMessage(`Activation Lens: could not run npm: ${error.message}`);
          resolve(false);
        });
        child.on('close', (code) => {
          if (token.isCancellationRequested) {
            resolve(false);
          } else if (code === 0) {
            void vscode.window.showInformationMessage(
              `Activation Lens: ${PACKAGE} is installed in ${prefix}. With backend "auto" it is tried first; the report names the backend that ran, or why this one was skipped.`,
            );
            resolve(true);
          } else {
            void vscode.window.showErrorMessage(`Activation Lens: the GPU backend could not be installed: ${explainInstallFailure(output)}`);
            resolve(false);
          }
        });
      }),
  );
}
