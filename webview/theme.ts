/**
 * Colours from VS Code's theme variables (`--vscode-*`), with fallbacks for the exported HTML
 * opened in a browser. Re-read when the theme changes (VS Code swaps the body's classes).
 */
export interface Theme {
  readonly foreground: string;
  readonly grid: string;
  readonly palette: readonly string[];
}

const PALETTE_VARS: readonly [string, string][] = [
  ['--vscode-charts-blue', '#3794ff'],
  ['--vscode-charts-red', '#f14c4c'],
  ['--vscode-charts-green', '#89d185'],
  ['--vscode-charts-orange', '#d18616'],
  ['--vscode-charts-purple', '#b180d7'],
  ['--vscode-charts-yellow', '#cca700'],
];

export function readTheme(element: HTMLElement = document.body): Theme {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  return {
    foreground: read('--vscode-foreground', '#333333'),
    grid: read('--vscode-editorWidget-border', 'rgba(128, 128, 128, 0.35)'),
    palette: PALETTE_VARS.map(([name, fallback]) => read(name, fallback)),
  };
}

/** Calls `onChange` when VS Code switches between light, dark and high-contrast themes. */
export function onThemeChange(onChange: () => void): void {
  new MutationObserver(onChange).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
