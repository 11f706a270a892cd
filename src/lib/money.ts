/**
 * Money: an integer number of minor units (fen, cents) and an ISO 4217 code. Never a float.
 * Amounts are bigint inside the services and the database, and a safe integer on the wire.
 */
export interface Money {
  minorUnits: bigint;
  currency: string;
}

/** Minor-unit digits of the currencies Arrears handles; others default to 2. */
const MINOR_DIGITS: Record<string, number> = { CNY: 2, USD: 2, HKD: 2, EUR: 2, JPY: 0, KRW: 0 };

export const SUPPORTED_CURRENCIES = Object.keys(MINOR_DIGITS);

export function isCurrencyCode(code: string): boolean {
  return /^[A-Z]{3}$/.test(code);
}

export function minorDigits(currency: string): number {
  return MINOR_DIGITS[currency] ?? 2;
}

export function money(minorUnits: bigint | number, currency: string): Money {
  return { minorUnits: BigInt(minorUnits), currency };
}

/** A bigint amount as a JavaScript number, refusing anything a double cannot hold exactly. */
export function toSafeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`amount ${value} is beyond the safe integer range`);
  }
  return Number(value);
}

/** e.g. 123456 CNY → "¥1,234.56" (zh-CN) or "CN¥1,234.56" (en); formatted from integers, never through a float. */
export function formatMoney(m: Money, locale: string = 'zh-CN'): string {
  const digits = minorDigits(m.currency);
  const negative = m.minorUnits < 0n;
  const abs = negative ? -m.minorUnits : m.minorUnits;
  const scale = 10n ** BigInt(digits);
  const whole = abs / scale;
  const frac = abs % scale;
  // Intl formats the currency symbol and grouping of the whole part; the fraction is appended exactly.
  const key = `${locale}|${m.currency}`;
  let format = NUMBER_FORMATS.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency: m.currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    NUMBER_FORMATS.set(key, format);
  }
  const parts = format.formatToParts(whole);
  const out = parts
    .map((p) => (p.type === 'fraction' ? frac.toString().padStart(digits, '0') : p.type === 'minusSign' ? '' : p.value))
    .join('');
  return negative ? `-${out}` : out;
}

const NUMBER_FORMATS = new Map<string, Intl.NumberFormat>();

export function sumMoney(values: readonly bigint[]): bigint {
  return values.reduce((a, b) => a + b, 0n);
}
