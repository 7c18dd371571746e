/** Command ids in one place; the contributed ones must match package.json. */
export const enum CommandId {
  Diagnose = 'activationLens.diagnose',
  Cancel = 'activationLens.cancel',
  ShowReport = 'activationLens.showReport',
  ShowReportText = 'activationLens.showReportText',
  ClearDiagnostics = 'activationLens.clearDiagnostics',
  SelectBackend = 'activationLens.selectBackend',
  ChooseData = 'activationLens.chooseData',
  InstallGpuBackend = 'activationLens.installGpuBackend',
  /** Internal (registered, not contributed): a layer lens's target. */
  RevealLayer = 'activationLens.revealLayer',
  /** Internal: a stale quick fix's "re-run" action. */
  Rerun = 'activationLens.rerun',
  /** Internal: the input-shape Quick Fix (asks for the shape, writes the comment, diagnoses again). */
  SetInputShape = 'activationLens.setInputShape',
}

/** Context key set while a diagnosis runs (for the Cancel command's `when` clause). */
export const RUNNING_CONTEXT_KEY = 'activationLens.running';
