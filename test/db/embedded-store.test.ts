import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/db/store.ts';
import { applyMigrations } from '../../src/db/migrations.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the embedded store in a folder', () => {
  it('keeps every row across a restart, and applies nothing twice', async () => {
    const first = await openEmbeddedStore(dir, { purpose: 'test' });
    expect((await applyMigrations(first.sql)).applied.length).toBeGreaterThan(0);
    await first.prisma.agency.create({ data: { code: 'KEEP', name: 'Kept Ltd', licenseNumber: 'L-1', dataProcessingContractRef: 'D-1' } });
    await first.close();
    expect(fs.existsSync(path.join(dir, 'arrears.lock'))).toBe(false); // released on close

    const second = await openEmbeddedStore(dir, { purpose: 'test' });
    try {
      expect((await applyMigrations(second.sql)).applied).toEqual([]);
      expect((await second.prisma.agency.findUnique({ where: { code: 'KEEP' } }))?.name).toBe('Kept Ltd');
    } finally {
      await second.close();
    }
  }, 60_000);
});
