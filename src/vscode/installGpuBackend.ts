/**
 * "Install GPU Backend": installs an optional GPU backend into the extension's global storage
 * with npm, where the trainer looks for optional backends first. Two are offered:
 * - WebGPU: Dawn (npm `webgpu`, a prebuilt native addon for Linux, macOS and Windows). Any GPU
 *   through Vulkan, Metal or D3D12; it comes from the npm registry alone.
 * - CUDA: @tensorflow/tfjs-node-gpu. Its install step downloads libtensorflow (with CUDA) from
 *   storage.googleapis.com, so it needs that host and an NVIDIA driver; when the driver is
 *   missing the command says so instead of failing obscurely.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { explainInstallFailure } from '../engine/installHelp';

interface GpuPackage {
  /** npm spec, pinned to the versions this build was tested with. */
  readonly spec: string;
  readonly label: string;
  readonly detail: string;
  readonly needsNvidia: boolean;
}

const PACKAGES: readonly GpuPackage[] = [
  {
    spec: 'webgpu@0.6.2',
    label: 'WebGPU (Dawn)',
    detail: 'Any GPU through Vulkan, Metal or D3D12. From the npm registry only (about 40 MB).',
    needsNvidia: false,
  },
  {
    spec: '@tensorflow/tfjs-node-gpu@4.22.0',
    label: 'CUDA (TensorFlow)',
    detail: 'NVIDIA GPUs with CUDA. Downloads libtensorflow from storage.googleapis.com while installing.',
    needsNvidia: true,
  },
];

function hasNvidiaDriver(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['-L'], { timeout: 10_000 }, (error, stdout) => resolve(!error && /GPU \d/.test(stdout)));
  });
}

export async function installGpuBackend(storage: vscode.Uri): Promise<boolean> {
  const picked = await vscode.window.showQuickPick(
    PACKAGES.map((p) => ({ label: p.label, description: p.spec, detail: p.detail, pkg: p })),
    { title: 'Activation Lens: install a GPU backend', placeHolder: 'Which GPU backend?' },
  );
  if (!picked) return false;
  const pkg = picked.pkg;
  if (pkg.needsNvidia && !(await hasNvidiaDriver())) {
    void vscode.window.showWarningMessage(
      'Activation Lens: no NVIDIA GPU was found (nvidia-smi is missing or lists no GPU). The CUDA backend needs an NVIDIA GPU; WebGPU works with other GPUs, and the bundled WebAssembly backend keeps working.',
    );
    return false;
  }
  const prefix = storage.fsPath;
  fs.mkdirSync(prefix, { recursive: true });
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Activation Lens: installing ${pkg.spec}`, cancellable: true },
    (progress, token) =>
      new Promise<boolean>((resolve) => {
        const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
        const child = spawn(npm, ['install', '--no-audit', '--no-fund', '--prefix', prefix, pkg.spec], { cwd: prefix, shell: false });
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
              `Activation Lens: ${pkg.spec} is installed in ${prefix}. With backend "auto" GPU backends are tried first; the report names the backend that ran, or why one was skipped.`,
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
