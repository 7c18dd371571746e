/** Turning a failed `npm install` of an optional backend into a reason a person can act on. */

/** Plain-words reason for an npm failure, from its output. */
export function explainInstallFailure(output: string): string {
  const host = /ENOTFOUND\s+([\w.-]+)|hostname: '([\w.-]+)'/.exec(output);
  if (host) {
    const name = host[1] ?? host[2];
    const why = name === 'storage.googleapis.com'
      ? ' The package downloads libtensorflow with CUDA from there while installing.'
      : '';
    return `this machine cannot reach ${name} (offline, or blocked by a proxy/firewall).${why}`;
  }
  if (/EACCES|EPERM/.test(output)) return 'npm was not allowed to write to the extension\'s storage folder.';
  if (/ENOENT.*npm|spawn npm/.test(output)) return 'npm was not found on the PATH of the VS Code server.';
  const last = output.trim().split('\n').filter((l) => l.trim()).slice(-3).join(' · ');
  return `npm failed: ${last.slice(0, 400)}`;
}
