// Every UserErrorCode of the schema has a message in both languages, and every string of the
// console exists in both (the map is checked against the enum in schema/schema.graphql).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LANGS, MESSAGES, USER_ERROR_MESSAGES, userErrorMessage } from '../src/i18n.ts';

const schema = fs.readFileSync(path.resolve(import.meta.dirname, '../../schema/schema.graphql'), 'utf8');

function enumValues(name: string): string[] {
  const body = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(schema)?.[1] ?? '';
  return body
    .replace(/"""[\s\S]*?"""/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^[A-Z][A-Z0-9_]*$/.test(l));
}

describe('console messages', () => {
  it('has a message in en and zh-CN for every UserErrorCode of the schema, and no other', () => {
    const codes = enumValues('UserErrorCode');
    expect(codes.length).toBeGreaterThan(10);
    expect(Object.keys(USER_ERROR_MESSAGES).sort()).toEqual([...codes].sort());
    for (const code of codes) {
      const m = (USER_ERROR_MESSAGES as Record<string, Record<string, string>>)[code]!;
      for (const lang of LANGS) expect(m[lang]?.trim(), `${code} ${lang}`).toBeTruthy();
      expect(m['en']).not.toBe(m['zh-CN']);
      expect(/[\u4e00-\u9fff]/.test(m['zh-CN']!), `${code} zh-CN is Chinese`).toBe(true);
    }
  });

  it('has every string of the console in both languages', () => {
    const en = Object.keys(MESSAGES.en).sort();
    expect(Object.keys(MESSAGES['zh-CN']).sort()).toEqual(en);
    for (const key of en) expect((MESSAGES['zh-CN'] as Record<string, string>)[key]?.trim(), key).toBeTruthy();
  });

  it('shows a user error by its code in the chosen language, with the server’s words after', () => {
    expect(userErrorMessage('zh-CN', 'STALE_VERSION', 'The case is at version 3, not 2')).toBe('数据已被他人修改：请刷新后重试。 (The case is at version 3, not 2)');
    expect(userErrorMessage('en', 'SOMETHING_NEW', 'As the server says')).toBe('As the server says');
  });
});

describe('enum values', () => {
  it('has a label in both languages for every value a form offers (buckets stay as they are)', async () => {
    const { enumLabel } = await import('../src/i18n.ts');
    const lists = await import('../src/enums.ts');
    const offered = [
      lists.STAGES,
      lists.CONTACT_OUTCOMES,
      lists.CHANNELS,
      lists.PLAN_KINDS,
      lists.FREQUENCIES,
      lists.PAYMENT_CHANNELS,
      lists.EVIDENCE_KINDS,
      lists.VISIT_OUTCOMES,
      lists.DELINQUENCY_REASONS,
      lists.VISIT_DECISIONS,
      lists.CLOSE_REASONS,
    ].flat();
    for (const v of offered) {
      expect(enumLabel('en', v).trim(), v).toBeTruthy();
      expect(/[\u4e00-\u9fff]/.test(enumLabel('zh-CN', v)), `${v} in zh-CN`).toBe(true);
    }
    expect(enumLabel('zh-CN', 'M2')).toBe('M2');
    expect(enumLabel('en', null)).toBe('—');
  });
});
