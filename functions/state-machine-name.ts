/**
 * The name of an export's state machine, `<stack>-<export without punctuation>` (at most 80
 * characters): the CDK stack creates it, `rivet cloud run|status` finds it by this name.
 */
export function stateMachineName(stackName: string, exportName: string): string {
  return `${stackName}-${machineId(exportName)}`.slice(0, 80);
}

/** Construct-id-safe form of an export name. */
export function machineId(exportName: string): string {
  return exportName.replace(/[^A-Za-z0-9]/g, '') || 'Export';
}
