import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FixedClock, DAY_MS } from '../../src/lib/time.ts';
import {
  channelFits,
  evaluateContact,
  historyWindowStart,
  zonedWallTimeToInstant,
  type PolicyContactPoint,
  type PolicyDecision,
  type PolicyFigures,
  type PolicyHistoryEntry,
  type PolicyHold,
  type PolicyInput,
  type PolicyRule,
} from '../../src/modules/policy/engine.ts';
import { POLICY_PRESETS } from '../../src/modules/policy/presets.ts';

/**
 * The contact policy engine, rule by rule at its boundaries. Instants are written with the
 * debtor's own UTC offset (Asia/Shanghai +08:00; America/New_York −05:00 EST / −04:00 EDT,
 * 2026 transitions: 2026-03-08 02:00 EST → 03:00 EDT, 2026-11-01 02:00 EDT → 01:00 EST).
 */

const SH = 'Asia/Shanghai';
const NY = 'America/New_York';
const CN = POLICY_PRESETS.CN;
const US = POLICY_PRESETS.US;
/** CN figures with contact hours all day: the local-day rules alone, up to midnight. */
const CN_ALL_DAY: PolicyFigures = { ...CN, contactHoursStart: 0, contactHoursEnd: 24 * 60 };
const HOUR = 3_600_000;

const d = (iso: string) => new Date(iso);

const mobile: PolicyContactPoint = { id: 'cp-mobile', debtorOwn: true, kind: 'MOBILE', doNotContact: false };
const home: PolicyContactPoint = { id: 'cp-home', debtorOwn: true, kind: 'HOME_PHONE', doNotContact: false };
const work: PolicyContactPoint = { id: 'cp-work', debtorOwn: true, kind: 'WORK_PHONE', doNotContact: false };
const email: PolicyContactPoint = { id: 'cp-email', debtorOwn: true, kind: 'EMAIL', doNotContact: false };

function input(over: Partial<PolicyInput> & { at: Date }): PolicyInput {
  return {
    policy: CN,
    debtor: { timeZone: SH, ceaseContact: false },
    contactPoint: mobile,
    channel: 'CALL',
    history: [],
    caseId: 'case-1',
    holds: [],
    ...over,
  };
}

/** A completed CALL attempt of case-1 to the mobile, unanswered unless said otherwise. */
function call(at: string | Date, over: Partial<PolicyHistoryEntry> = {}): PolicyHistoryEntry {
  return { attemptedAt: new Date(at), channel: 'CALL', contactPointId: 'cp-mobile', connected: false, caseId: 'case-1', ...over };
}
const conversation = (at: string | Date, over: Partial<PolicyHistoryEntry> = {}) => call(at, { connected: true, ...over });

function expectAllowed(decision: PolicyDecision): void {
  expect(decision).toEqual({ allowed: true });
}

function expectRefused(decision: PolicyDecision, rule: PolicyRule, nextAllowedAt: string | null): void {
  expect(decision.allowed).toBe(false);
  if (decision.allowed) return;
  expect(decision.rule).toBe(rule);
  expect(decision.message).toEqual(expect.any(String));
  expect(decision.nextAllowedAt === null ? null : decision.nextAllowedAt.toISOString()).toBe(nextAllowedAt === null ? null : d(nextAllowedAt).toISOString());
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

// ------------------------------------------------------------------------ wall time → instant

describe('zonedWallTimeToInstant', () => {
  it('Asia/Shanghai (no daylight saving): UTC+8 all year', () => {
    expect(zonedWallTimeToInstant('2026-03-10', 8 * 60, SH).toISOString()).toBe('2026-03-10T00:00:00.000Z');
    expect(zonedWallTimeToInstant('2026-03-10', 0, SH).toISOString()).toBe('2026-03-09T16:00:00.000Z');
    expect(zonedWallTimeToInstant('2026-07-10', 22 * 60, SH).toISOString()).toBe('2026-07-10T14:00:00.000Z');
    expect(zonedWallTimeToInstant('2026-03-10', 24 * 60, SH).toISOString()).toBe('2026-03-10T16:00:00.000Z');
  });

  it('America/New_York around the 2026-03-08 spring-forward: skipped wall times map to the jump', () => {
    expect(zonedWallTimeToInstant('2026-03-07', 8 * 60, NY).toISOString()).toBe('2026-03-07T13:00:00.000Z'); // EST
    expect(zonedWallTimeToInstant('2026-03-08', 0, NY).toISOString()).toBe('2026-03-08T05:00:00.000Z'); // EST
    expect(zonedWallTimeToInstant('2026-03-08', 119, NY).toISOString()).toBe('2026-03-08T06:59:00.000Z'); // 01:59 EST
    // 02:00–02:59 do not exist: the first instant with a later wall time is 03:00 EDT.
    expect(zonedWallTimeToInstant('2026-03-08', 120, NY).toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect(zonedWallTimeToInstant('2026-03-08', 150, NY).toISOString()).toBe('2026-03-08T07:00:00.000Z');
    expect(zonedWallTimeToInstant('2026-03-08', 180, NY).toISOString()).toBe('2026-03-08T07:00:00.000Z'); // 03:00 EDT
    expect(zonedWallTimeToInstant('2026-03-08', 8 * 60, NY).toISOString()).toBe('2026-03-08T12:00:00.000Z'); // EDT
    expect(zonedWallTimeToInstant('2026-03-09', 0, NY).toISOString()).toBe('2026-03-09T04:00:00.000Z'); // EDT
  });

  it('America/New_York around the 2026-11-01 fall-back: repeated wall times map to the first', () => {
    expect(zonedWallTimeToInstant('2026-10-31', 8 * 60, NY).toISOString()).toBe('2026-10-31T12:00:00.000Z'); // EDT
    expect(zonedWallTimeToInstant('2026-11-01', 0, NY).toISOString()).toBe('2026-11-01T04:00:00.000Z'); // EDT
    expect(zonedWallTimeToInstant('2026-11-01', 60, NY).toISOString()).toBe('2026-11-01T05:00:00.000Z'); // 01:00 EDT, not EST
    expect(zonedWallTimeToInstant('2026-11-01', 90, NY).toISOString()).toBe('2026-11-01T05:30:00.000Z');
    expect(zonedWallTimeToInstant('2026-11-01', 120, NY).toISOString()).toBe('2026-11-01T07:00:00.000Z'); // 02:00 EST
    expect(zonedWallTimeToInstant('2026-11-01', 8 * 60, NY).toISOString()).toBe('2026-11-01T13:00:00.000Z'); // EST
    expect(zonedWallTimeToInstant('2026-11-02', 0, NY).toISOString()).toBe('2026-11-02T05:00:00.000Z'); // EST
  });

  it('round-trips every whole-minute instant (the first of a repeated wall time)', () => {
    const zones = [SH, NY, 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kolkata'];
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: Date.UTC(2020, 0, 1) / 60_000, max: Date.UTC(2030, 0, 1) / 60_000 }), (zone, minute) => {
        const t = minute * 60_000;
        const w = wall(new Date(t), zone);
        const back = zonedWallTimeToInstant(w.date, w.minutes, zone).getTime();
        expect(wall(new Date(back), zone)).toEqual(w);
        expect(back).toBeLessThanOrEqual(t);
        // Earlier only within a repeated (turned-back) stretch: at most an hour.
        expect(t - back).toBeLessThanOrEqual(HOUR);
        if (back < t) expect(wall(new Date(back - 1), zone).minutes).toBeLessThan(w.minutes);
      }),
      { numRuns: 2000 },
    );
  });
});

/** An independent reading of the wall clock (for the tests only). */
function wall(at: Date, timeZone: string): { date: string; minutes: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

// ------------------------------------------------------------------------ channels

describe('channelFits and CHANNEL_MISMATCH', () => {
  it('SMS needs a mobile, CALL a phone, EMAIL an email; a LETTER goes to no contact point', () => {
    expect(channelFits('SMS', 'MOBILE')).toBe(true);
    expect(channelFits('SMS', 'HOME_PHONE')).toBe(false);
    expect(channelFits('SMS', 'WORK_PHONE')).toBe(false);
    expect(channelFits('SMS', 'EMAIL')).toBe(false);
    expect(channelFits('CALL', 'MOBILE')).toBe(true);
    expect(channelFits('CALL', 'HOME_PHONE')).toBe(true);
    expect(channelFits('CALL', 'WORK_PHONE')).toBe(true);
    expect(channelFits('CALL', 'EMAIL')).toBe(false);
    expect(channelFits('EMAIL', 'EMAIL')).toBe(true);
    expect(channelFits('EMAIL', 'MOBILE')).toBe(false);
    for (const kind of ['MOBILE', 'HOME_PHONE', 'WORK_PHONE', 'EMAIL'] as const) expect(channelFits('LETTER', kind)).toBe(false);
  });

  const at = d('2026-03-10T10:00:00+08:00');
  it.each([
    ['SMS', home],
    ['SMS', work],
    ['EMAIL', mobile],
    ['CALL', email],
    ['LETTER', mobile],
  ] as const)('refuses %s to a %s contact point, not by waiting', (channel, contactPoint) => {
    expectRefused(evaluateContact(input({ at, channel, contactPoint })), 'CHANNEL_MISMATCH', null);
  });

  it('refuses a call, SMS or email without a contact point', () => {
    for (const channel of ['CALL', 'SMS', 'EMAIL'] as const) {
      expectRefused(evaluateContact(input({ at, channel, contactPoint: null })), 'CHANNEL_MISMATCH', null);
    }
  });

  it('allows the fitting pairs', () => {
    expectAllowed(evaluateContact(input({ at, channel: 'SMS', contactPoint: mobile })));
    expectAllowed(evaluateContact(input({ at, channel: 'CALL', contactPoint: work })));
    expectAllowed(evaluateContact(input({ at, channel: 'CALL', contactPoint: home })));
    expectAllowed(evaluateContact(input({ at, channel: 'EMAIL', contactPoint: email })));
    expectAllowed(evaluateContact(input({ at, channel: 'LETTER', contactPoint: null })));
  });

  it('comes before contact hours', () => {
    expectRefused(evaluateContact(input({ at: d('2026-03-10T23:00:00+08:00'), channel: 'SMS', contactPoint: home })), 'CHANNEL_MISMATCH', null);
  });
});

// ------------------------------------------------------------------------ absolute refusals

describe('do-not-contact, cease, third party', () => {
  const at = d('2026-03-10T10:00:00+08:00');

  it('DO_NOT_CONTACT on the contact point, on every channel, not by waiting', () => {
    expectRefused(evaluateContact(input({ at, contactPoint: { ...mobile, doNotContact: true } })), 'DO_NOT_CONTACT', null);
    expectRefused(evaluateContact(input({ at, channel: 'SMS', contactPoint: { ...mobile, doNotContact: true } })), 'DO_NOT_CONTACT', null);
    expectRefused(evaluateContact(input({ at, channel: 'EMAIL', contactPoint: { ...email, doNotContact: true } })), 'DO_NOT_CONTACT', null);
    // Another of the debtor's points is still fine.
    expectAllowed(evaluateContact(input({ at, contactPoint: home })));
  });

  it('CEASE_CONTACT on the debtor, on every channel including letters, not by waiting', () => {
    const debtor = { timeZone: SH, ceaseContact: true };
    expectRefused(evaluateContact(input({ at, debtor })), 'CEASE_CONTACT', null);
    expectRefused(evaluateContact(input({ at, debtor, channel: 'EMAIL', contactPoint: email })), 'CEASE_CONTACT', null);
    expectRefused(evaluateContact(input({ at, debtor, channel: 'LETTER', contactPoint: null })), 'CEASE_CONTACT', null);
  });

  it("THIRD_PARTY: only the debtor's own contact points, not by waiting", () => {
    const emergency: PolicyContactPoint = { id: 'cp-spouse', debtorOwn: false, kind: 'MOBILE', doNotContact: false };
    expectRefused(evaluateContact(input({ at, contactPoint: emergency })), 'THIRD_PARTY', null);
    expectRefused(evaluateContact(input({ at, channel: 'SMS', contactPoint: emergency })), 'THIRD_PARTY', null);
  });

  it('checks in order: hold, cease, third party, do-not-contact, channel, contact hours, counts', () => {
    const all: Partial<PolicyInput> = {
      holds: [{ startsAt: d('2026-03-01T00:00:00Z'), endsAt: d('2026-03-20T00:00:00Z'), releasedAt: null }],
      debtor: { timeZone: SH, ceaseContact: true },
      contactPoint: { id: 'cp-x', debtorOwn: false, kind: 'EMAIL', doNotContact: true },
      channel: 'SMS',
      at: d('2026-03-10T23:00:00+08:00'),
    };
    // On hold until the 20th, but cease forbids contact after it too: not by waiting.
    expectRefused(evaluateContact(input({ at, ...all })), 'CASE_ON_HOLD', null);
    expectRefused(evaluateContact(input({ at, ...all, holds: [] })), 'CEASE_CONTACT', null);
    expectRefused(evaluateContact(input({ at, ...all, holds: [], debtor: { timeZone: SH, ceaseContact: false } })), 'THIRD_PARTY', null);
    const own = { id: 'cp-x', debtorOwn: true, kind: 'EMAIL', doNotContact: true } as const;
    expectRefused(evaluateContact(input({ at, ...all, holds: [], debtor: { timeZone: SH, ceaseContact: false }, contactPoint: own })), 'DO_NOT_CONTACT', null);
    expectRefused(
      evaluateContact(input({ at, ...all, holds: [], debtor: { timeZone: SH, ceaseContact: false }, contactPoint: { ...own, doNotContact: false } })),
      'CHANNEL_MISMATCH',
      null,
    );
    // Outside hours with three connected calls today: contact hours answer first.
    const history = [conversation('2026-03-10T09:00:00+08:00'), conversation('2026-03-10T10:00:00+08:00'), conversation('2026-03-10T11:00:00+08:00')];
    expectRefused(evaluateContact(input({ at: d('2026-03-10T22:30:00+08:00'), history })), 'CONTACT_HOURS', '2026-03-11T08:00:00+08:00');
  });
});

// ------------------------------------------------------------------------ holds

describe('CASE_ON_HOLD', () => {
  const at = d('2026-03-10T10:00:00+08:00');

  it('refuses during a hold with an end; next allowed at the end; allowed at the end', () => {
    const holds: PolicyHold[] = [{ startsAt: d('2026-03-09T00:00:00+08:00'), endsAt: d('2026-03-12T15:00:00+08:00'), releasedAt: null }];
    expectRefused(evaluateContact(input({ at, holds })), 'CASE_ON_HOLD', '2026-03-12T15:00:00+08:00');
    expectRefused(evaluateContact(input({ at: d('2026-03-12T14:59:59.999+08:00'), holds })), 'CASE_ON_HOLD', '2026-03-12T15:00:00+08:00');
    expectAllowed(evaluateContact(input({ at: d('2026-03-12T15:00:00+08:00'), holds })));
  });

  it('is active from its start', () => {
    const holds: PolicyHold[] = [{ startsAt: at, endsAt: null, releasedAt: null }];
    expectRefused(evaluateContact(input({ at, holds })), 'CASE_ON_HOLD', null);
    expectAllowed(evaluateContact(input({ at: new Date(at.getTime() - 1), holds })));
  });

  it('a hold without end: not by waiting', () => {
    const holds: PolicyHold[] = [{ startsAt: d('2026-03-01T00:00:00Z'), endsAt: null, releasedAt: null }];
    expectRefused(evaluateContact(input({ at, holds })), 'CASE_ON_HOLD', null);
  });

  it('a released hold no longer refuses; before its release it did, until the release', () => {
    const holds: PolicyHold[] = [{ startsAt: d('2026-03-01T00:00:00Z'), endsAt: null, releasedAt: d('2026-03-10T09:00:00+08:00') }];
    expectAllowed(evaluateContact(input({ at, holds })));
    expectRefused(evaluateContact(input({ at: d('2026-03-10T08:30:00+08:00'), holds })), 'CASE_ON_HOLD', '2026-03-10T09:00:00+08:00');
  });

  it('holds every channel, letters included', () => {
    const holds: PolicyHold[] = [{ startsAt: d('2026-03-01T00:00:00Z'), endsAt: null, releasedAt: null }];
    expectRefused(evaluateContact(input({ at, holds, channel: 'LETTER', contactPoint: null })), 'CASE_ON_HOLD', null);
    expectRefused(evaluateContact(input({ at, holds, channel: 'SMS' })), 'CASE_ON_HOLD', null);
  });

  it('an end outside contact hours moves to the next contact-hours start', () => {
    const holds: PolicyHold[] = [{ startsAt: d('2026-03-01T00:00:00Z'), endsAt: d('2026-03-12T23:00:00+08:00'), releasedAt: null }];
    expectRefused(evaluateContact(input({ at, holds })), 'CASE_ON_HOLD', '2026-03-13T08:00:00+08:00');
  });

  it('a hold that ends where an indefinite one begins: not by waiting', () => {
    const holds: PolicyHold[] = [
      { startsAt: d('2026-03-01T00:00:00Z'), endsAt: d('2026-03-12T12:00:00+08:00'), releasedAt: null },
      { startsAt: d('2026-03-12T12:00:00+08:00'), endsAt: null, releasedAt: null },
    ];
    expectRefused(evaluateContact(input({ at, holds })), 'CASE_ON_HOLD', null);
  });
});

// ------------------------------------------------------------------------ contact hours

describe('CONTACT_HOURS', () => {
  it('CN in Asia/Shanghai: [08:00, 22:00) local', () => {
    expectRefused(evaluateContact(input({ at: d('2026-03-10T07:59:59+08:00') })), 'CONTACT_HOURS', '2026-03-10T08:00:00+08:00');
    expectRefused(evaluateContact(input({ at: d('2026-03-10T07:59:59.999+08:00') })), 'CONTACT_HOURS', '2026-03-10T08:00:00+08:00');
    expectAllowed(evaluateContact(input({ at: d('2026-03-10T08:00:00+08:00') })));
    expectAllowed(evaluateContact(input({ at: d('2026-03-10T21:59:59+08:00') })));
    expectAllowed(evaluateContact(input({ at: d('2026-03-10T21:59:59.999+08:00') })));
    expectRefused(evaluateContact(input({ at: d('2026-03-10T22:00:00+08:00') })), 'CONTACT_HOURS', '2026-03-11T08:00:00+08:00');
    // 23:30 local is 15:30 UTC, same UTC day: still tomorrow's 08:00 local.
    expectRefused(evaluateContact(input({ at: d('2026-03-10T23:30:00+08:00') })), 'CONTACT_HOURS', '2026-03-11T08:00:00+08:00');
    // 00:30 local is the previous UTC day: today's 08:00 local.
    expectRefused(evaluateContact(input({ at: d('2026-03-11T00:30:00+08:00') })), 'CONTACT_HOURS', '2026-03-11T08:00:00+08:00');
  });

  it('US in America/New_York: [08:00, 21:00) local', () => {
    const us = (at: string) => input({ policy: US, debtor: { timeZone: NY, ceaseContact: false }, at: d(at) });
    expectRefused(evaluateContact(us('2026-06-10T07:59:59-04:00')), 'CONTACT_HOURS', '2026-06-10T08:00:00-04:00');
    expectAllowed(evaluateContact(us('2026-06-10T08:00:00-04:00')));
    expectAllowed(evaluateContact(us('2026-06-10T20:59:59-04:00')));
    expectRefused(evaluateContact(us('2026-06-10T21:00:00-04:00')), 'CONTACT_HOURS', '2026-06-11T08:00:00-04:00');
    // CN hours for the same debtor would still allow 21:30: the figures are the policy's.
    expectAllowed(evaluateContact(input({ debtor: { timeZone: NY, ceaseContact: false }, at: d('2026-06-10T21:30:00-04:00') })));
  });

  it('the zone is the debtor’s: 11:00 in Shanghai is 22:00 the evening before in New York', () => {
    const at = d('2026-01-15T11:00:00+08:00');
    expectAllowed(evaluateContact(input({ at })));
    expectRefused(evaluateContact(input({ at, debtor: { timeZone: NY, ceaseContact: false } })), 'CONTACT_HOURS', '2026-01-15T08:00:00-05:00');
  });

  it('across the spring-forward in New York (2026-03-08)', () => {
    const us = (at: string) => input({ policy: US, debtor: { timeZone: NY, ceaseContact: false }, at: d(at) });
    // 21:00 EST on the 7th: next is 08:00 EDT on the 8th (12:00Z, not 13:00Z).
    expectRefused(evaluateContact(us('2026-03-07T21:00:00-05:00')), 'CONTACT_HOURS', '2026-03-08T08:00:00-04:00');
    expectRefused(evaluateContact(us('2026-03-08T01:30:00-05:00')), 'CONTACT_HOURS', '2026-03-08T08:00:00-04:00');
    expectRefused(evaluateContact(us('2026-03-08T07:59:59-04:00')), 'CONTACT_HOURS', '2026-03-08T08:00:00-04:00');
    expectAllowed(evaluateContact(us('2026-03-08T08:00:00-04:00')));
    expectAllowed(evaluateContact(us('2026-03-08T20:59:59-04:00')));
    expectRefused(evaluateContact(us('2026-03-08T21:00:00-04:00')), 'CONTACT_HOURS', '2026-03-09T08:00:00-04:00');
  });

  it('across the fall-back in New York (2026-11-01)', () => {
    const us = (at: string) => input({ policy: US, debtor: { timeZone: NY, ceaseContact: false }, at: d(at) });
    // 21:00 EDT on Oct 31: next is 08:00 EST on Nov 1 (13:00Z, not 12:00Z).
    expectRefused(evaluateContact(us('2026-10-31T21:00:00-04:00')), 'CONTACT_HOURS', '2026-11-01T08:00:00-05:00');
    // 07:59:59 EST would be 08:59:59 by yesterday's offset: still refused.
    expectRefused(evaluateContact(us('2026-11-01T07:59:59-05:00')), 'CONTACT_HOURS', '2026-11-01T08:00:00-05:00');
    expectAllowed(evaluateContact(us('2026-11-01T08:00:00-05:00')));
    expectAllowed(evaluateContact(us('2026-11-01T20:59:59-05:00')));
    expectRefused(evaluateContact(us('2026-11-01T21:00:00-05:00')), 'CONTACT_HOURS', '2026-11-02T08:00:00-05:00');
  });

  it('applies to SMS and EMAIL; LETTER is exempt', () => {
    const at = d('2026-03-10T22:00:00+08:00');
    expectRefused(evaluateContact(input({ at, channel: 'SMS' })), 'CONTACT_HOURS', '2026-03-11T08:00:00+08:00');
    expectRefused(evaluateContact(input({ at, channel: 'EMAIL', contactPoint: email })), 'CONTACT_HOURS', '2026-03-11T08:00:00+08:00');
    expectAllowed(evaluateContact(input({ at, channel: 'LETTER', contactPoint: null })));
  });

  it('takes the instant from an injected clock, never from the system clock', () => {
    vi.useFakeTimers({ now: d('2031-07-01T12:00:00Z'), toFake: ['Date'] });
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('the engine read the system clock');
    });
    const clock = new FixedClock('2026-03-10T21:59:59+08:00');
    expectAllowed(evaluateContact(input({ at: clock.now() })));
    clock.advance(1000);
    expectRefused(evaluateContact(input({ at: clock.now() })), 'CONTACT_HOURS', '2026-03-11T08:00:00+08:00');
  });

  it('rejects contact hours that are not a window of the day', () => {
    expect(() => evaluateContact(input({ policy: { ...CN, contactHoursStart: 22 * 60, contactHoursEnd: 8 * 60 }, at: d('2026-03-10T10:00:00+08:00') }))).toThrow(RangeError);
  });
});

// ------------------------------------------------------------------------ connected calls per day

describe('CONNECTED_CALLS_PER_DAY (CN 3)', () => {
  const at = d('2026-03-10T15:00:00+08:00');
  const three = [
    conversation('2026-03-10T09:00:00+08:00'),
    conversation('2026-03-10T10:00:00+08:00', { contactPointId: 'cp-home' }),
    conversation('2026-03-10T11:00:00+08:00', { caseId: 'case-2', contactPointId: 'cp-work' }),
  ];

  it('the 3rd connected call is allowed, the 4th refused until tomorrow 08:00 local (all points, all cases)', () => {
    expectAllowed(evaluateContact(input({ at, history: three.slice(0, 2) })));
    expectRefused(evaluateContact(input({ at, history: three })), 'CONNECTED_CALLS_PER_DAY', '2026-03-11T08:00:00+08:00');
    expectRefused(evaluateContact(input({ at, history: three, contactPoint: home })), 'CONNECTED_CALLS_PER_DAY', '2026-03-11T08:00:00+08:00');
    expectAllowed(evaluateContact(input({ at: d('2026-03-11T08:00:00+08:00'), history: three })));
  });

  it('counts only calls: connected SMS and unanswered calls do not count; SMS is not refused', () => {
    const history = [...three.slice(0, 2), conversation('2026-03-10T12:00:00+08:00', { channel: 'SMS' }), call('2026-03-10T13:00:00+08:00')];
    expectAllowed(evaluateContact(input({ at, history })));
    expectAllowed(evaluateContact(input({ at, history: three, channel: 'SMS' })));
  });

  it('a call at 23:30 Shanghai the previous day does not count today, though within 24 hours', () => {
    const history = [conversation('2026-03-09T21:00:00+08:00'), conversation('2026-03-09T21:30:00+08:00'), conversation('2026-03-09T23:30:00+08:00')];
    expectAllowed(evaluateContact(input({ at: d('2026-03-10T08:30:00+08:00'), history })));
  });

  it('UTC midnight is not the day boundary: 07:30 Shanghai (23:30 UTC the day before) counts today', () => {
    const history = [conversation('2026-03-10T07:30:00+08:00'), conversation('2026-03-10T07:40:00+08:00'), conversation('2026-03-10T07:50:00+08:00')];
    expectRefused(evaluateContact(input({ at: d('2026-03-10T08:30:00+08:00'), history })), 'CONNECTED_CALLS_PER_DAY', '2026-03-11T08:00:00+08:00');
  });

  it('New York, spring-forward day (23 hours): the day ends at 00:00 EDT', () => {
    const base = { policy: CN_ALL_DAY, debtor: { timeZone: NY, ceaseContact: false } };
    const history = [conversation('2026-03-08T00:10:00-05:00'), conversation('2026-03-08T09:00:00-04:00'), conversation('2026-03-08T12:00:00-04:00')];
    expectRefused(evaluateContact(input({ ...base, at: d('2026-03-08T23:59:59.999-04:00'), history })), 'CONNECTED_CALLS_PER_DAY', '2026-03-09T00:00:00-04:00');
    expectAllowed(evaluateContact(input({ ...base, at: d('2026-03-09T00:00:00-04:00'), history })));
  });

  it('New York, fall-back day (25 hours): the day ends at 00:00 EST', () => {
    const base = { policy: CN_ALL_DAY, debtor: { timeZone: NY, ceaseContact: false } };
    const history = [conversation('2026-11-01T00:10:00-04:00'), conversation('2026-11-01T12:00:00-05:00'), conversation('2026-11-01T13:00:00-05:00')];
    // 23:30 EST is more than 24 hours after 00:10 EDT, and still the same local day.
    expectRefused(evaluateContact(input({ ...base, at: d('2026-11-01T23:30:00-05:00'), history })), 'CONNECTED_CALLS_PER_DAY', '2026-11-02T00:00:00-05:00');
    expectRefused(evaluateContact(input({ ...base, at: d('2026-11-01T23:59:59.999-05:00'), history })), 'CONNECTED_CALLS_PER_DAY', '2026-11-02T00:00:00-05:00');
    expectAllowed(evaluateContact(input({ ...base, at: d('2026-11-02T00:00:00-05:00'), history })));
  });

  it('answers as of `at`: later history does not count', () => {
    expectAllowed(evaluateContact(input({ at: d('2026-03-10T08:30:00+08:00'), history: three })));
  });

  it('a null figure disables it; zero refuses, not by waiting', () => {
    expectAllowed(evaluateContact(input({ at, history: three, policy: { ...CN, maxConnectedCallsPerDay: null } })));
    expectRefused(evaluateContact(input({ at, policy: { ...CN, maxConnectedCallsPerDay: 0 } })), 'CONNECTED_CALLS_PER_DAY', null);
  });
});

// ------------------------------------------------------------------------ unanswered number per day

describe('ATTEMPTS_PER_NUMBER_PER_DAY (CN 6)', () => {
  const at = d('2026-03-10T15:00:00+08:00');
  const times = ['09:00', '10:00', '11:00', '12:00', '13:00', '14:00'].map((t) => `2026-03-10T${t}:00+08:00`);
  const six = times.map((t) => call(t));

  it('the 6th unanswered attempt is allowed, the 7th refused until tomorrow 08:00 local', () => {
    expectAllowed(evaluateContact(input({ at, history: six.slice(0, 5) })));
    expectRefused(evaluateContact(input({ at, history: six })), 'ATTEMPTS_PER_NUMBER_PER_DAY', '2026-03-11T08:00:00+08:00');
    expectRefused(evaluateContact(input({ at: d('2026-03-11T07:59:59.999+08:00'), history: six })), 'CONTACT_HOURS', '2026-03-11T08:00:00+08:00');
    expectAllowed(evaluateContact(input({ at: d('2026-03-11T08:00:00+08:00'), history: six })));
  });

  it('counts per number across cases; another number is free', () => {
    const mixed = six.map((h, i) => (i % 2 ? { ...h, caseId: 'case-2' } : h));
    expectRefused(evaluateContact(input({ at, history: mixed })), 'ATTEMPTS_PER_NUMBER_PER_DAY', '2026-03-11T08:00:00+08:00');
    expectAllowed(evaluateContact(input({ at, history: six, contactPoint: home })));
  });

  it('counts only unanswered calls: an answered one, or SMS, do not count', () => {
    expectAllowed(evaluateContact(input({ at, history: [...six.slice(0, 5), conversation(times[5]!)] })));
    expectAllowed(evaluateContact(input({ at, history: [...six.slice(0, 5), call(times[5]!, { channel: 'SMS' })] })));
    expectAllowed(evaluateContact(input({ at, history: six, channel: 'SMS' })));
  });

  it("yesterday's attempts (in Shanghai's day) do not count", () => {
    const history = times.map((t) => call(new Date(d(t).getTime() - DAY_MS)));
    expectAllowed(evaluateContact(input({ at, history })));
    // 07:xx Shanghai is the previous UTC day, yet today.
    const early = ['07:00', '07:10', '07:20', '07:30', '07:40', '07:50'].map((t) => call(`2026-03-10T${t}:00+08:00`));
    expectRefused(evaluateContact(input({ at, history: early })), 'ATTEMPTS_PER_NUMBER_PER_DAY', '2026-03-11T08:00:00+08:00');
  });
});

// ------------------------------------------------------------------------ 7 rolling days

describe('CALL_ATTEMPTS_PER_7_DAYS (US 7 per debt)', () => {
  const us = { policy: US, debtor: { timeZone: NY, ceaseContact: false } };
  const at = d('2026-06-10T12:00:00-04:00');
  const ago = (ms: number) => new Date(at.getTime() - ms);
  const six = [5, 4, 3, 2, 1].map((n) => call(ago(n * DAY_MS))).concat(call(ago(HOUR)));

  it('the 7th attempt in (at − 7 days, at] is allowed, the 8th refused until the oldest leaves', () => {
    expectAllowed(evaluateContact(input({ ...us, at, history: six })));
    const seven = [call(ago(7 * DAY_MS - 1)), ...six];
    expectRefused(evaluateContact(input({ ...us, at, history: seven })), 'CALL_ATTEMPTS_PER_7_DAYS', new Date(at.getTime() + 1).toISOString());
    expectAllowed(evaluateContact(input({ ...us, at: new Date(at.getTime() + 1), history: seven })));
    // Exactly 7 days old: out of the window.
    expectAllowed(evaluateContact(input({ ...us, at, history: [call(ago(7 * DAY_MS)), ...six] })));
  });

  it('with more than the limit, waits until enough of the oldest have left', () => {
    const nine = [call(ago(6.5 * DAY_MS)), call(ago(6 * DAY_MS)), call(ago(5.5 * DAY_MS)), ...six];
    // 9 in the window; the 8th call needs the 3rd oldest (5.5 days ago) gone: at + 1.5 days = 00:00 local → 08:00.
    expectRefused(evaluateContact(input({ ...us, at, history: nine })), 'CALL_ATTEMPTS_PER_7_DAYS', '2026-06-12T08:00:00-04:00');
  });

  it('counts calls of this debt only, connected or not, and not SMS', () => {
    const seven = [call(ago(6 * DAY_MS)), ...six];
    const us7 = { ...us, policy: { ...US, quietDaysAfterConversation: null } };
    expectAllowed(evaluateContact(input({ ...us7, at, history: seven.map((h) => ({ ...h, caseId: 'case-2' })) })));
    expectAllowed(evaluateContact(input({ ...us7, at, history: seven.map((h) => ({ ...h, channel: 'SMS' as const })) })));
    expectAllowed(evaluateContact(input({ ...us7, at, history: seven, channel: 'SMS' })));
    expectRefused(evaluateContact(input({ ...us7, at, history: seven.map((h) => ({ ...h, connected: true })) })), 'CALL_ATTEMPTS_PER_7_DAYS', '2026-06-11T12:00:00-04:00');
  });

  it('the oldest leaving outside contact hours moves to the next 08:00 (7 × 24 h across the spring-forward)', () => {
    // 20:30 EST on March 2nd + 7 × 24 h = 21:30 EDT on March 9th: outside hours, so 08:00 EDT on the 10th.
    const now = d('2026-03-09T20:00:00-04:00');
    const history = [call('2026-03-02T20:30:00-05:00'), ...[5, 4, 3, 2, 1].map((n) => call(new Date(now.getTime() - n * DAY_MS))), call(new Date(now.getTime() - HOUR))];
    expectRefused(evaluateContact(input({ ...us, at: now, history })), 'CALL_ATTEMPTS_PER_7_DAYS', '2026-03-10T08:00:00-04:00');
  });

  it('a null figure disables it', () => {
    const seven = [call(ago(6 * DAY_MS)), ...six];
    expectAllowed(evaluateContact(input({ ...us, policy: { ...US, maxCallAttemptsPer7Days: null }, at, history: seven })));
  });
});

// ------------------------------------------------------------------------ quiet period

describe('QUIET_AFTER_CONVERSATION (US 7 days)', () => {
  const us = { policy: US, debtor: { timeZone: NY, ceaseContact: false } };
  const talked = d('2026-06-03T10:00:00-04:00');
  const end = new Date(talked.getTime() + 7 * DAY_MS);

  it('no call about the debt on [conversation, conversation + 7 days)', () => {
    const history = [conversation(talked)];
    expectRefused(evaluateContact(input({ ...us, at: talked, history })), 'QUIET_AFTER_CONVERSATION', end.toISOString());
    expectRefused(evaluateContact(input({ ...us, at: d('2026-06-03T11:00:00-04:00'), history })), 'QUIET_AFTER_CONVERSATION', end.toISOString());
    expectRefused(evaluateContact(input({ ...us, at: new Date(end.getTime() - 1), history })), 'QUIET_AFTER_CONVERSATION', end.toISOString());
    expectAllowed(evaluateContact(input({ ...us, at: end, history })));
  });

  it('only after a conversation about this debt, and only calls are quieted', () => {
    const at = d('2026-06-04T10:00:00-04:00');
    expectAllowed(evaluateContact(input({ ...us, at, history: [call(talked)] })));
    expectAllowed(evaluateContact(input({ ...us, at, history: [conversation(talked, { caseId: 'case-2' })] })));
    expectAllowed(evaluateContact(input({ ...us, at, history: [conversation(talked, { channel: 'SMS' })] })));
    expectAllowed(evaluateContact(input({ ...us, at, history: [conversation(talked)], channel: 'SMS' })));
  });

  it('the end moved into contact hours (across the fall-back)', () => {
    // 20:30 EDT Oct 27 + 7 × 24 h = 19:30 EST Nov 3 (inside hours); 20:45 EDT + 7 d = 19:45 EST.
    const h1 = [conversation('2026-10-27T20:30:00-04:00')];
    expectRefused(evaluateContact(input({ ...us, at: d('2026-11-01T12:00:00-05:00'), history: h1 })), 'QUIET_AFTER_CONVERSATION', '2026-11-03T19:30:00-05:00');
    // A conversation at 22:30 (say, the debtor called late): + 7 d = 21:30 EST, outside: next 08:00.
    const h2 = [conversation('2026-10-27T22:30:00-04:00')];
    expectRefused(evaluateContact(input({ ...us, at: d('2026-11-01T12:00:00-05:00'), history: h2 })), 'QUIET_AFTER_CONVERSATION', '2026-11-04T08:00:00-05:00');
  });

  it('a null figure disables it', () => {
    expectAllowed(evaluateContact(input({ ...us, policy: { ...US, quietDaysAfterConversation: null }, at: d('2026-06-04T10:00:00-04:00'), history: [conversation(talked)] })));
  });
});

// ------------------------------------------------------------------------ nextAllowedAt across rules

describe('nextAllowedAt is the real next allowed instant', () => {
  it('the next day is also blocked: a hold over tomorrow morning moves past the daily limit', () => {
    const at = d('2026-03-10T15:00:00+08:00');
    const history = [conversation('2026-03-10T09:00:00+08:00'), conversation('2026-03-10T10:00:00+08:00'), conversation('2026-03-10T11:00:00+08:00')];
    const holds: PolicyHold[] = [{ startsAt: d('2026-03-11T07:00:00+08:00'), endsAt: d('2026-03-11T12:00:00+08:00'), releasedAt: null }];
    expectRefused(evaluateContact(input({ at, history, holds })), 'CONNECTED_CALLS_PER_DAY', '2026-03-11T12:00:00+08:00');
    // An indefinite one: not by waiting.
    expectRefused(evaluateContact(input({ at, history, holds: [{ ...holds[0]!, endsAt: null }] })), 'CONNECTED_CALLS_PER_DAY', null);
  });

  it('a hold ends during the quiet period: the quiet period decides', () => {
    const us = { policy: US, debtor: { timeZone: NY, ceaseContact: false } };
    const holds: PolicyHold[] = [{ startsAt: d('2026-06-04T00:00:00-04:00'), endsAt: d('2026-06-06T00:00:00-04:00'), releasedAt: null }];
    expectRefused(evaluateContact(input({ ...us, at: d('2026-06-05T10:00:00-04:00'), holds, history: [conversation('2026-06-03T10:00:00-04:00')] })), 'CASE_ON_HOLD', '2026-06-10T10:00:00-04:00');
  });

  it('the oldest attempt leaves the 7-day window during a quiet period: the quiet period decides', () => {
    const us = { policy: US, debtor: { timeZone: NY, ceaseContact: false } };
    const at = d('2026-06-10T12:00:00-04:00');
    const ago = (days: number) => new Date(at.getTime() - days * DAY_MS);
    // 7 calls in the window (the 8th refused until 6.9 days ago + 7 days = 14:24 today), the last
    // of them a conversation a day ago: quiet until 2026-06-16 12:00.
    const history = [...[6.9, 6, 5, 4, 3, 2].map((n) => call(ago(n))), conversation(ago(1))];
    expectRefused(evaluateContact(input({ ...us, at, history })), 'CALL_ATTEMPTS_PER_7_DAYS', '2026-06-16T12:00:00-04:00');
  });
});

// ------------------------------------------------------------------------ history window

describe('historyWindowStart', () => {
  it('per-day rules need the local day; the US rules need 7 days; nothing needs nothing', () => {
    const at = d('2026-03-10T09:00:00+08:00');
    expect(historyWindowStart(CN, at, SH).toISOString()).toBe(d('2026-03-10T00:00:00+08:00').toISOString());
    expect(historyWindowStart(CN, d('2026-03-08T12:00:00-04:00'), NY).toISOString()).toBe(d('2026-03-08T00:00:00-05:00').toISOString());
    expect(historyWindowStart(US, at, NY).toISOString()).toBe(new Date(at.getTime() - 7 * DAY_MS).toISOString());
    expect(historyWindowStart({ ...US, maxCallAttemptsPer7Days: null, quietDaysAfterConversation: 10 }, at, NY).toISOString()).toBe(
      new Date(at.getTime() - 10 * DAY_MS).toISOString(),
    );
    expect(historyWindowStart({ ...CN, maxConnectedCallsPerDay: null, maxAttemptsPerNumberPerDay: null }, at, SH).toISOString()).toBe(at.toISOString());
  });
});

// ------------------------------------------------------------------------ properties

const ANCHORS = [
  '2026-03-08T07:00:00Z', // New York spring-forward
  '2026-11-01T06:00:00Z', // New York fall-back
  '2026-03-29T01:00:00Z', // London spring-forward
  '2026-04-04T15:00:00Z', // Lord Howe fall-back (30 minutes)
  '2026-06-15T04:00:00Z',
].map((s) => Date.parse(s));

const arbInput: fc.Arbitrary<PolicyInput> = fc
  .record({
    policy: fc.constantFrom<PolicyFigures>(
      CN,
      US,
      { ...CN, maxCallAttemptsPer7Days: 4, quietDaysAfterConversation: 2 },
      { ...US, maxConnectedCallsPerDay: 1, maxAttemptsPerNumberPerDay: 2, maxCallAttemptsPer7Days: 3, quietDaysAfterConversation: 1 },
      { ...CN_ALL_DAY, maxConnectedCallsPerDay: 1, maxAttemptsPerNumberPerDay: 2 },
      { ...CN, maxConnectedCallsPerDay: null, maxAttemptsPerNumberPerDay: 1 },
      { ...US, maxCallAttemptsPer7Days: 2, quietDaysAfterConversation: null },
    ),
    timeZone: fc.constantFrom(SH, NY, 'Europe/London', 'Australia/Lord_Howe'),
    at: fc.tuple(fc.constantFrom(...ANCHORS), fc.integer({ min: -5 * DAY_MS, max: 5 * DAY_MS })).map(([a, o]) => a + o),
    ceaseContact: fc.constantFrom(false, false, false, false, false, false, false, true),
    contactPoint: fc.record({
      id: fc.constantFrom('cp-1', 'cp-1', 'cp-2'),
      debtorOwn: fc.constantFrom(true, true, true, true, true, true, true, false),
      kind: fc.constantFrom('MOBILE', 'MOBILE', 'HOME_PHONE', 'WORK_PHONE', 'EMAIL'),
      doNotContact: fc.constantFrom(false, false, false, false, false, false, false, true),
    }),
    letter: fc.boolean(),
    channel: fc.constantFrom('CALL', 'CALL', 'CALL', 'SMS', 'EMAIL', 'LETTER'),
    history: fc.array(
      fc.record({
        ago: fc.oneof(fc.integer({ min: 0, max: DAY_MS }), fc.integer({ min: 0, max: 8 * DAY_MS })),
        channel: fc.constantFrom('CALL', 'CALL', 'CALL', 'CALL', 'SMS', 'EMAIL'),
        contactPointId: fc.constantFrom('cp-1', 'cp-1', 'cp-2', null),
        connected: fc.constantFrom(false, false, true),
        caseId: fc.constantFrom('case-1', 'case-1', 'case-2'),
      }),
      { maxLength: 20 },
    ),
    holds: fc.oneof(
      { weight: 3, arbitrary: fc.constant<{ start: number; length: number | null; released: number | null }[]>([]) },
      {
        weight: 1,
        arbitrary: fc.array(
          fc.record({
            start: fc.integer({ min: -3 * DAY_MS, max: 3 * DAY_MS }),
            length: fc.option(fc.integer({ min: 1, max: 4 * DAY_MS })),
            released: fc.option(fc.integer({ min: 0, max: 4 * DAY_MS })),
          }),
          { minLength: 1, maxLength: 2 },
        ),
      },
    ),
  })
  .map((r) => ({
    policy: r.policy,
    debtor: { timeZone: r.timeZone, ceaseContact: r.ceaseContact },
    contactPoint: r.channel === 'LETTER' && r.letter ? null : (r.contactPoint as PolicyContactPoint),
    channel: r.channel as PolicyInput['channel'],
    history: r.history.map((h) => ({ attemptedAt: new Date(r.at - h.ago), channel: h.channel as PolicyHistoryEntry['channel'], contactPointId: h.contactPointId, connected: h.connected, caseId: h.caseId })),
    caseId: 'case-1',
    holds: r.holds.map((h) => ({
      startsAt: new Date(r.at + h.start),
      endsAt: h.length === null ? null : new Date(r.at + h.start + h.length),
      releasedAt: h.released === null ? null : new Date(r.at + h.start + h.released),
    })),
    at: new Date(r.at),
  }));

describe('properties', () => {
  it('refused with nextAllowedAt: allowed at it, refused 1 ms before it (no new history)', () => {
    const waited = new Map<PolicyRule, number>();
    fc.assert(
      fc.property(arbInput, (inp) => {
        const decision = evaluateContact(inp);
        if (decision.allowed || decision.nextAllowedAt === null) return;
        waited.set(decision.rule, (waited.get(decision.rule) ?? 0) + 1);
        const next = decision.nextAllowedAt;
        expect(next.getTime()).toBeGreaterThan(inp.at.getTime());
        expect(evaluateContact({ ...inp, at: next })).toEqual({ allowed: true });
        expect(evaluateContact({ ...inp, at: new Date(next.getTime() - 1) }).allowed).toBe(false);
      }),
      { numRuns: 3000 },
    );
    // Not vacuous: every rule that refuses for a time did so (each ~10–50 times in 3000 runs).
    for (const rule of ['CASE_ON_HOLD', 'CONTACT_HOURS', 'CONNECTED_CALLS_PER_DAY', 'ATTEMPTS_PER_NUMBER_PER_DAY', 'CALL_ATTEMPTS_PER_7_DAYS', 'QUIET_AFTER_CONVERSATION'] as const) {
      expect(waited.get(rule) ?? 0, rule).toBeGreaterThanOrEqual(3);
    }
  });

  it('history before historyWindowStart never changes the decision', () => {
    fc.assert(
      fc.property(arbInput, (inp) => {
        const from = historyWindowStart(inp.policy, inp.at, inp.debtor.timeZone).getTime();
        const bounded = { ...inp, history: inp.history.filter((h) => h.attemptedAt.getTime() >= from) };
        expect(evaluateContact(bounded)).toEqual(evaluateContact(inp));
      }),
      { numRuns: 1000 },
    );
  });
});
