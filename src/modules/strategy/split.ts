/**
 * Champion-challenger assignment: random but stable. A case's point in [0, 1) is the first 48
 * bits of HMAC-SHA256(key, "<strategy name>\n<segment key>\n<case id>"), so that it
 *  - is the same on every run and every server (no state, no seeded generator),
 *  - cannot be predicted or steered by someone who knows case ids but not the key (the key comes
 *    from the deployment's secrets: src/lib/secrets.ts, strategySplitKey),
 *  - stays the same across versions of one strategy (the name, not the version, is hashed), so a
 *    new version does not reshuffle a running experiment.
 * Challengers take consecutive slices of [0, 100) by their share, in order; the champion the rest.
 */
import { createHmac } from 'node:crypto';

export interface Arm {
  key: string;
  /** Percent, integer. */
  share: number;
}

export const CHAMPION_ARM = 'champion';

export function splitPoint(key: Uint8Array, strategyName: string, segmentKey: string, caseId: string): number {
  const mac = createHmac('sha256', key).update(`${strategyName}\n${segmentKey}\n${caseId.toLowerCase()}`).digest();
  return mac.readUIntBE(0, 6) / 2 ** 48;
}

/** The arm a point in [0, 1) falls in: challengers' slices first, in order, the champion the rest. */
export function armForShare(challengers: readonly Arm[], point: number): string {
  let upper = 0;
  for (const c of challengers) {
    upper += c.share;
    if (point * 100 < upper) return c.key;
  }
  return CHAMPION_ARM;
}
