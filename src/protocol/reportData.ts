/**
 * The report's data: everything the webview draws, as plain JSON. Built on the host from a
 * diagnosis (src/engine/report.ts), sent to the webview or embedded in an exported HTML file.
 * Types only, shared by the host and the webview (`import type`).
 */

export interface ReportLayer {
  readonly index: number;
  readonly name: string;
  readonly kind: string;
  readonly activation: string;
  readonly line: number;
  readonly hasKernel: boolean;
  /** The file freezes the layer: not trained, so no gradient is shown for it. */
  readonly frozen: boolean;
  readonly gradNorm: number | null;
  readonly gradRatioToLast: number | null;
  readonly saturatedFraction: number;
  readonly deadFraction: number;
  readonly inactiveFraction: number;
  readonly mean: number;
  readonly std: number;
}

export interface ReportHistogram {
  readonly layerIndex: number;
  readonly step: number;
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  /** Mean of the activations the histogram was taken from. */
  readonly mean: number;
}

export interface ReportRun {
  /** 'baseline' or the suggestion's id. */
  readonly id: string;
  readonly label: string;
  /** Verified to improve what it targets (undefined for the baseline). */
  readonly improved?: boolean;
  readonly loss: readonly (number | null)[];
  /** ‖∇W‖ per kernel layer (by layer index) at step 0 and at the last step. */
  readonly gradNormFirst: readonly (number | null)[];
  readonly gradNormLast: readonly (number | null)[];
}

export interface ReportFinding {
  readonly code: string;
  readonly severity: 'error' | 'warning' | 'info';
  readonly layerIndex: number | null;
  readonly line: number;
  readonly message: string;
  readonly suggestions: readonly { readonly id: string; readonly label: string; readonly improved: boolean | null; readonly summary: string }[];
}

export interface ReportModel {
  readonly name: string;
  readonly line: number;
  readonly backend: string;
  /** What the backend computed on, where it says (a GPU adapter, the CPU's matrix-product library). */
  readonly backendDevice?: string;
  readonly skippedBackends: readonly string[];
  readonly steps: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly msPerStep: number;
  readonly totalMs: number;
  readonly parameters: number;
  readonly data: string;
  readonly error?: string;
  readonly layers: readonly ReportLayer[];
  /** Per kernel layer (by layer index; null for layers without a kernel): ‖∇W‖ at every step. */
  readonly gradNormsByStep: readonly (readonly (number | null)[] | null)[];
  readonly histograms: readonly ReportHistogram[];
  readonly runs: readonly ReportRun[];
  readonly findings: readonly ReportFinding[];
  readonly thresholds: { readonly saturatedWarnFraction: number; readonly deadWarnFraction: number; readonly vanishingErrorRatio: number };
}

export interface ReportData {
  readonly file: string;
  readonly format: string;
  /** ISO time the report was made. */
  readonly createdAt: string;
  readonly models: readonly ReportModel[];
}

//#region messages to the webview
export interface ShowReportMessage {
  readonly type: 'show';
  readonly report: ReportData;
  /** Scroll to this layer of this model. */
  readonly focus?: { readonly model: string; readonly layerIndex: number };
}
export type ToWebview = ShowReportMessage;
//#endregion

//#region messages from the webview
export interface ReadyMessage {
  readonly type: 'ready';
}
export interface RevealLayerMessage {
  readonly type: 'revealLayer';
  readonly model: string;
  readonly line: number;
}
export interface ApplySuggestionMessage {
  readonly type: 'applySuggestion';
  readonly model: string;
  readonly layerIndex: number;
  readonly suggestionId: string;
}
export type FromWebview = ReadyMessage | RevealLayerMessage | ApplySuggestionMessage;
//#endregion
