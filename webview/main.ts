/**
 * The report webview: renders every model of a diagnosis (charts, findings, table) from report
 * data embedded in the page or sent by the extension. The only code that touches the DOM.
 */
import type { Chart } from 'chart.js';
import type { FromWebview, ReportData, ReportModel, ToWebview } from '../src/protocol/reportData';
import { formatNumber, fractions, gradientFlow, gradientsOverSteps, groupFindings, histograms, losses, TABLE_COLUMNS, tableRows } from './chartData';
import { barsWithThresholds, histogramChart, lineChart } from './charts';
import { onThemeChange, readTheme } from './theme';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): { report?: ReportData } | undefined;
  setState(state: { report?: ReportData }): void;
}
declare const acquireVsCodeApi: (() => VsCodeApi) | undefined;

const vscode: VsCodeApi | undefined = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
let charts: Chart[] = [];
let current: ReportData | undefined;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function canvasBox(parent: HTMLElement, title: string, id: string, className = 'chart'): HTMLCanvasElement {
  const figure = el('figure', { class: className });
  figure.append(el('figcaption', {}, title));
  const box = el('div', { class: 'canvas-box' });
  const canvas = el('canvas', { id, role: 'img', 'aria-label': title });
  box.append(canvas);
  figure.append(box);
  parent.append(figure);
  return canvas;
}

function modelId(model: ReportModel): string {
  return model.name.replace(/[^A-Za-z0-9_-]/g, '_');
}

function renderModel(model: ReportModel, root: HTMLElement): void {
  const theme = readTheme();
  const id = modelId(model);
  const section = el('section', { class: 'model', id: `model-${id}` });
  section.append(el('h2', {}, `${model.name} (line ${model.line})`));
  const meta = el('p', { class: 'meta' });
  meta.textContent = model.error
    ? `Not trained: ${model.error}`
    : `${model.steps} steps × batch ${model.batchSize}, seed ${model.seed} · backend ${model.backend}${model.backendDevice ? ` on ${model.backendDevice}` : ''} · ${model.msPerStep.toFixed(1)} ms/step · ${(model.totalMs / 1000).toFixed(1)} s · ${model.parameters.toLocaleString('en-US')} parameters · data: ${model.data}`;
  section.append(meta);
  if (model.skippedBackends.length) section.append(el('p', { class: 'meta skipped' }, `Skipped backends: ${model.skippedBackends.join('; ')}`));

  const findings = el('ul', { class: 'findings' });
  for (const group of groupFindings(model)) {
    const f = group.first;
    const item = el('li', { class: `finding ${group.severity}` });
    const where = group.layers.length > 1 ? `layers ${group.layers.join(', ')} (the first shown)` : group.layers.length === 1 ? `layer ${group.layers[0]}` : 'model';
    item.append(el('span', { class: 'badge' }, group.severity), el('code', {}, f.code), el('span', {}, ` line ${f.line}, ${where}: ${f.message}`));
    const best = f.suggestions[0];
    if (best) {
      const suggestion = el('div', { class: 'suggestion' }, `→ ${best.label}: ${best.summary}`);
      if (vscode && best.improved && f.layerIndex !== null) {
        const apply = el('button', { type: 'button' }, 'Apply');
        apply.addEventListener('click', () => vscode.postMessage({ type: 'applySuggestion', model: model.name, layerIndex: f.layerIndex as number, suggestionId: best.id }));
        suggestion.append(' ', apply);
      }
      item.append(suggestion);
    }
    findings.append(item);
  }
  if (model.findings.length === 0 && !model.error) findings.append(el('li', { class: 'finding ok' }, 'No findings: gradients flow and activations look healthy.'));
  section.append(findings);

  if (!model.error) {
    const grid = el('div', { class: 'charts' });
    section.append(grid);
    charts.push(lineChart(canvasBox(grid, 'Gradient flow by depth: ‖∇W‖ per layer (log)', `flow-${id}`), gradientFlow(model), theme, { yTitle: '‖∇W‖', xTitle: 'layer', log: true }));
    charts.push(lineChart(canvasBox(grid, '‖∇W‖ per layer over the training steps (log)', `steps-${id}`), gradientsOverSteps(model), theme, { yTitle: '‖∇W‖', xTitle: 'step', log: true }));
    charts.push(barsWithThresholds(canvasBox(grid, 'Saturated and dead fractions per layer', `fractions-${id}`), fractions(model), theme, '%'));
    charts.push(lineChart(canvasBox(grid, 'Loss over steps, as written and for each suggestion', `loss-${id}`), losses(model), theme, { yTitle: 'loss', xTitle: 'step', log: false }));
    const hist = el('div', { class: 'histograms' });
    section.append(el('h3', {}, 'Activation histograms at the last probe (the bin holding the mean is highlighted)'), hist);
    for (const panel of histograms(model)) {
      charts.push(histogramChart(canvasBox(hist, panel.title, `hist-${id}-${panel.layerIndex}`, 'histogram'), panel, theme));
    }
  }

  const table = el('table', { class: 'numbers', id: `table-${id}` });
  const head = el('tr');
  for (const c of TABLE_COLUMNS) head.append(el('th', { scope: 'col' }, c));
  table.append(el('thead'), el('tbody'));
  table.tHead?.append(head);
  tableRows(model).forEach((cells, i) => {
    const row = el('tr', { id: `layer-${id}-${i}`, tabindex: '0', title: 'Reveal this layer in the editor' });
    cells.forEach((c) => row.append(el('td', {}, c)));
    const reveal = () => vscode?.postMessage({ type: 'revealLayer', model: model.name, line: model.layers[i].line });
    row.addEventListener('click', reveal);
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') reveal();
    });
    table.tBodies[0].append(row);
  });
  section.append(el('h3', {}, 'Every number'), table);
  root.append(section);
}

function render(report: ReportData, focus?: { model: string; layerIndex: number }): void {
  current = report;
  for (const c of charts) c.destroy();
  charts = [];
  const root = document.getElementById('report') as HTMLElement;
  root.replaceChildren();
  const header = el('header');
  header.append(el('h1', {}, `Activation Lens — ${report.file}`), el('p', { class: 'meta' }, `${report.format} · ${new Date(report.createdAt).toLocaleString()} · ${formatNumber(report.models.length)} model(s)`));
  root.append(header);
  for (const model of report.models) renderModel(model, root);
  vscode?.setState({ report });
  if (focus) {
    const row = document.getElementById(`layer-${focus.model.replace(/[^A-Za-z0-9_-]/g, '_')}-${focus.layerIndex}`);
    row?.scrollIntoView({ block: 'center' });
    row?.classList.add('focused');
  }
  document.body.dataset.rendered = 'true';
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  if (message && message.type === 'show') render(message.report, message.focus);
});

onThemeChange(() => {
  if (current) render(current);
});

const embedded = document.getElementById('report-data');
if (embedded?.textContent) {
  render(JSON.parse(embedded.textContent) as ReportData);
} else {
  const saved = vscode?.getState()?.report;
  if (saved) render(saved);
  vscode?.postMessage({ type: 'ready' });
}
