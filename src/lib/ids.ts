/** Human case numbers: C-000123. */
export function formatCaseNumber(caseNo: number): string {
  return `C-${String(caseNo).padStart(6, '0')}`;
}

/** "C-000123", "c-123" or "000123" → 123; anything else → null. */
export function parseCaseNumber(input: string): number | null {
  const m = /^(?:C-?)?(\d{1,12})$/i.exec(input.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 && n <= 2_147_483_647 ? n : null;
}
