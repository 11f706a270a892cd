/**
 * Which agency of a pool takes the next case (pure). Each member's effective weight is its weight
 * times a performance factor; the member chosen is the one, under capacity, whose open cases are
 * smallest relative to its effective weight (a deterministic weighted least-loaded choice: over
 * many cases each member's share of new placements tends to its effective weight, and no member
 * goes beyond its capacity). Ties go to the first member listed.
 *
 * Performance: the member's cure rate over its recent placements (placements ended in the last
 * PERFORMANCE_WINDOW_DAYS: the share whose case was paid or resolved during the placement),
 * relative to the pool's. factor = 0.5 + rate / (pool rate), clamped to [0.5, 1.5]; a member
 * with no recent placement (or a pool with none cured) has factor 1.
 */
export const PERFORMANCE_WINDOW_DAYS = 90;

export interface PoolMemberState {
  agencyId: string;
  weight: number;
  capacity: number;
  /** Open cases the agency holds now (every case, not only this pool's). */
  openCases: number;
  /** Recent placements ended, and how many of them cured. */
  recentPlacements: number;
  recentCured: number;
}

export function performanceFactors(members: readonly PoolMemberState[]): number[] {
  const placed = members.reduce((n, m) => n + m.recentPlacements, 0);
  const cured = members.reduce((n, m) => n + m.recentCured, 0);
  const poolRate = placed > 0 ? cured / placed : 0;
  return members.map((m) => {
    if (m.recentPlacements === 0 || poolRate === 0) return 1;
    return Math.min(1.5, Math.max(0.5, 0.5 + m.recentCured / m.recentPlacements / poolRate));
  });
}

/** The index of the member that takes the next case, or null when every member is at capacity. */
export function chooseAgency(members: readonly PoolMemberState[], factors: readonly number[] = performanceFactors(members)): number | null {
  let best: number | null = null;
  let bestLoad = Infinity;
  members.forEach((m, i) => {
    if (m.openCases >= m.capacity) return;
    const load = (m.openCases + 1) / (m.weight * factors[i]!);
    if (load < bestLoad) {
      bestLoad = load;
      best = i;
    }
  });
  return best;
}
