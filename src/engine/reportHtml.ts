/**
 * The report page. Two uses: inside a VS Code webview (scripts and styles by URI, nonce-tagged,
 * `default-src 'none'`), and exported as one self-contained HTML file (script and styles
 * inlined, the data embedded as JSON).
 */
import type { ReportData } from '../protocol/reportData';

/** Escapes text for HTML; `</script>` inside embedded JSON is neutralised too. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function embedJson(data: ReportData): string {
  // JSON inside <script type="application/json"> must not contain "</" (it would end the element).
  return JSON.stringify(data).replace(/</g, '\\u003c');
}

export interface WebviewPageOptions {
  readonly nonce: string;
  /** webview.cspSource */
  readonly cspSource: string;
  readonly scriptUri: string;
  readonly styleUri: string;
}

/** The page inside VS Code: data arrives by message (or from saved state). */
export function webviewPage(options: WebviewPageOptions): string {
  const csp = [
    "default-src 'none'",
    `style-src ${options.cspSource}`,
    `img-src ${options.cspSource} data:`,
    `script-src 'nonce-${options.nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeHtml(options.styleUri)}">
<title>Activation Lens report</title>
</head>
<body>
<main id="report" aria-live="polite"><p>Waiting for a diagnosis…</p></main>
<script nonce="${options.nonce}" src="${escapeHtml(options.scriptUri)}"></script>
</body>
</html>
`;
}

/** A self-contained file: opens in any browser, no network, the numbers embedded. */
export function standalonePage(data: ReportData, script: string, style: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Activation Lens report — ${escapeHtml(data.file)}</title>
<style>
${style}
</style>
</head>
<body>
<main id="report"></main>
<script id="report-data" type="application/json">${embedJson(data)}</script>
<script>
${script.replace(/<\/script/gi, '<\\/script')}
</script>
</body>
</html>
`;
}
