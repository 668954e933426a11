/**
 * Card data as ISO 8583 carries it, and how it is masked: shared by the register gateway (what it
 * logs of a message) and the logger (the paths it redacts in every line), so both know the same fields.
 */
/** Fields redacted whatever the dialect says: track 2, track 3, track 1, PIN block, ICC data. */
export const alwaysRedactedFields: ReadonlySet<number> = new Set([35, 36, 45, 52, 55]);
/** Fields that carry a PAN, masked like field 2: the PAN, and the extended PAN (34). */
export const panFields: ReadonlySet<number> = new Set([2, 34]);
/** Below this length, first 6 + last 4 would reveal too much of the number; only the last 4 show. */
const panLengthForBinMin = 13;

/**
 * Masks a PAN: first 6 and last 4 kept, the rest as '*'. Shorter values (not real PANs, but seen
 * in test traffic) keep only their last 4, and values of 4 or fewer characters are fully masked.
 */
export function maskPan(pan: string): string {
  const length = pan.length;
  if (length >= panLengthForBinMin) return pan.slice(0, 6) + '*'.repeat(length - 10) + pan.slice(-4);
  if (length > 4) return '*'.repeat(length - 4) + pan.slice(-4);
  return '*'.repeat(length);
}

