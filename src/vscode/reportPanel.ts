/**
 * The report webview panel: one per window, revived after a reload from the webview's saved
 * state (no retraining). Scripts load from dist/ with a nonce under `default-src 'none'`;
 * messages from the page are checked against the typed protocol before anything is done.
 */
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { toReportData } from '../engine/report';
import { webviewPage } from '../engine/reportHtml';
import type { FromWebview, ReportData, ToWebview } from '../protocol/reportData';
import type { AnalysisResult } from './analysisService';
import type { Thresholds } from '../core/analysis/types';
import { Disposable } from './dispose';

export interface ReportFocus {
  readonly model: string;
  readonly layerIndex: number;
}

/** What the panel asks the rest of the extension to do. */
export interface ReportActions {
  revealLine(uri: vscode.Uri, line: number): void;
  applySuggestion(uri: vscode.Uri, model: string, layerIndex: number, suggestionId: string): void;
}

function isFromWebview(value: unknown): value is FromWebview {
  if (!value || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  switch (m.type) {
    case 'ready':
      return true;
    case 'revealLayer':
      return typeof m.model === 'string' && typeof m.line === 'number';
    case 'applySuggestion':
      return typeof m.model === 'string' && typeof m.layerIndex === 'number' && typeof m.suggestionId === 'string';
    default:
      return false;
  }
}

export class ReportPanel extends Disposable {
  static readonly viewType = 'activationLens.report';
  private static current: ReportPanel | undefined;
  private report: ReportData | undefined;
  private focus: ReportFocus | undefined;
  /** The model file the report describes (unknown after a reload until the next show). */
  private uri: vscode.Uri | undefined;

  /** Shows the report of a result (creating the panel or reusing it), optionally at a layer. */
  static show(extensionUri: vscode.Uri, result: AnalysisResult, thresholds: Thresholds, actions: ReportActions, focus?: ReportFocus): ReportPanel {
    const report = toReportData(result.diagnosis, thresholds);
    if (ReportPanel.current) {
      ReportPanel.current.panel.reveal(vscode.ViewColumn.Beside, true);
    } else {
      const panel = vscode.window.createWebviewPanel(ReportPanel.viewType, 'Activation Lens report', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, ReportPanel.options(extensionUri));
      ReportPanel.current = new ReportPanel(panel, extensionUri, actions);
    }
    ReportPanel.current.update(report, result.uri, focus);
    return ReportPanel.current;
  }

  /** After a window reload: the page restores the report from its own saved state. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, actions: ReportActions): void {
    panel.webview.options = ReportPanel.options(extensionUri);
    ReportPanel.current = new ReportPanel(panel, extensionUri, actions);
  }

  private static options(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
    };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly actions: ReportActions,
  ) {
    super();
    const webview = panel.webview;
    webview.html = webviewPage({
      nonce: crypto.randomBytes(16).toString('base64'),
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'report.css')).toString(),
    });
    this._register(panel.onDidDispose(() => this.dispose()));
    this._register(webview.onDidReceiveMessage((message: unknown) => this.onMessage(message)));
  }

  get currentReport(): ReportData | undefined {
    return this.report;
  }

  private update(report: ReportData, uri: vscode.Uri, focus?: ReportFocus): void {
    this.report = report;
    this.uri = uri;
    this.focus = focus;
    void this.post({ type: 'show', report, focus });
  }

  private post(message: ToWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(message);
  }

  private onMessage(message: unknown): void {
    if (!isFromWebview(message)) return;
    switch (message.type) {
      case 'ready':
        // The page (re)loaded: send what it should show, if the host has it.
        if (this.report) void this.post({ type: 'show', report: this.report, focus: this.focus });
        break;
      case 'revealLayer':
        if (this.uri) this.actions.revealLine(this.uri, message.line);
        break;
      case 'applySuggestion':
        if (this.uri) this.actions.applySuggestion(this.uri, message.model, message.layerIndex, message.suggestionId);
        break;
    }
  }

  override dispose(): void {
    if (ReportPanel.current === this) ReportPanel.current = undefined;
    super.dispose();
    this.panel.dispose();
  }
}
