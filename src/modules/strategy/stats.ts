/**
 * Confidence intervals for comparing the arms of an experiment (95 %, z = 1.959964).
 *
 * Rates (cure rate, promise-kept rate, share of cases with a complaint): the Wilson score
 * interval, which stays inside [0, 1] and behaves for small samples and rates near 0 or 1:
 *   centre = (p + z²/2n) / (1 + z²/n),  half = z·√(p(1−p)/n + z²/4n²) / (1 + z²/n).
 *
 * Means (money collected per case, contacts per case): the normal approximation
 *   mean ± z·s/√n, with s the sample standard deviation (n − 1), computed from the sum and the
 * sum of squares in one pass (no resampling: deterministic, and cheap for any number of cases).
 * With n < 2 there is no interval (null bounds). Money stays in minor units: the bounds are rounded
 * to whole minor units outward.
 */
export const Z95 = 1.959964;

export interface Interval {
  estimate: number | null;
  low: number | null;
  high: number | null;
  n: number;
}

export function wilson(successes: number, n: number, z = Z95): Interval {
  if (n <= 0) return { estimate: null, low: null, high: null, n: 0 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), n };
}

/** Running sums for a mean's interval. */
export interface MeanSums {
  n: number;
  sum: number;
  sumSquares: number;
}

export function meanInterval(s: MeanSums, z = Z95): Interval {
  if (s.n <= 0) return { estimate: null, low: null, high: null, n: 0 };
  const mean = s.sum / s.n;
  if (s.n < 2) return { estimate: mean, low: null, high: null, n: s.n };
  const variance = Math.max(0, (s.sumSquares - s.n * mean * mean) / (s.n - 1));
  const half = z * Math.sqrt(variance / s.n);
  return { estimate: mean, low: mean - half, high: mean + half, n: s.n };
}

export function addSample(s: MeanSums, x: number): void {
  s.n++;
  s.sum += x;
  s.sumSquares += x * x;
}
