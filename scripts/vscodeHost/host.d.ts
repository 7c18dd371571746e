// Types of host.js for the TypeScript e2e driver.
export interface CodeServerHost {
  readonly url: string;
  readonly port: number;
  readonly root: string;
  readonly workspace: string;
  readonly logFile: string;
  readonly pid: number;
  stop(): Promise<void>;
}
export const CACHE_DIR: string;
export const CHROMIUM_ARGS: readonly string[];
export const DEBIAN_PACKAGES: string;
export const VERSION: string;
export function checkChromium(): string;
export function ensureCodeServer(): string;
export function startCodeServer(options: {
  workspace: string;
  env?: Record<string, string>;
  settings?: Record<string, unknown>;
  label?: string;
}): Promise<CodeServerHost>;
