/** `<export>_<UTC yyyymmddTHHMMSS.mmm>`, the reference tool's run id shape. */
export function makeRunId(exportName: string, at: Date): string {
  const iso = at.toISOString(); // 2026-05-21T12:00:00.123Z
  const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 23)}`;
  return `${exportName}_${stamp}`;
}
