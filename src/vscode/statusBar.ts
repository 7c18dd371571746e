/** The status-bar item: which backend trains, and whether a diagnosis runs or what it found. */
import * as vscode from 'vscode';
import type { AnalysisService, ServiceState } from './analysisService';
import { CommandId } from './commands';
import { Disposable } from './dispose';

export class StatusBar extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem('activationLens.status', vscode.StatusBarAlignment.Left, 0));

  constructor(service: AnalysisService) {
    super();
    this.item.name = 'Activation Lens';
    this._register(service.onDidChangeState((s) => this.render(s)));
    this.render(service.state);
    this.item.show();
  }

  private render(state: ServiceState): void {
    if (state.running) {
      this.item.text = `$(sync~spin) ${state.backend} · ${state.running.detail}`;
      this.item.tooltip = `Activation Lens: diagnosing ${state.running.file} on the ${state.backend} backend — click to cancel`;
      this.item.command = CommandId.Cancel;
    } else if (state.last) {
      this.item.text = `$(beaker) ${state.backend} · ${state.last.summary}`;
      this.item.tooltip = `Activation Lens: ${state.last.file}: ${state.last.summary} (backend ${state.backend}) — click for the report`;
      this.item.command = CommandId.ShowReport;
    } else {
      this.item.text = `$(beaker) ${state.backend} · idle`;
      this.item.tooltip = `Activation Lens: backend ${state.backend} — click to choose another`;
      this.item.command = CommandId.SelectBackend;
    }
  }
}
