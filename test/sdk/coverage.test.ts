// Every root field of the API has an operation in sdk/operations/*.graphql (issue 7, item 1),
// and the generated method table is current: the script sdk/scripts/check-coverage.ts as a test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Kind, parse } from 'graphql';
import { checkCoverage } from '../../sdk/scripts/check-coverage.ts';
import { connections, operations, subscriptions } from '../../sdk/src/index.ts';

const operationsDir = path.resolve(import.meta.dirname, '../../sdk/operations');
const temp: string[] = [];
afterAll(() => temp.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

describe('SDK coverage of the API', () => {
  it('has an operation for every query, mutation and subscription of schema/schema.graphql', () => {
    const report = checkCoverage();
    expect(report.missing, `root fields without an operation (write one in sdk/operations/, then npm run sdk:generate)`).toEqual([]);
    expect(report.rootFields.length).toBeGreaterThan(40);
    expect(report.covered.get('Mutation.uploadEvidence')).toEqual(['UploadEvidence']);
    expect(report.covered.get('Subscription.caseEvents')).toEqual(['CaseEvents']);
  });

  it('lists the root fields that have none', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arrears-ops-'));
    temp.push(dir);
    for (const file of fs.readdirSync(operationsDir)) {
      if (file !== 'repayment.graphql' && file !== 'events.graphql') fs.copyFileSync(path.join(operationsDir, file), path.join(dir, file));
    }
    const { missing } = checkCoverage({ operationsDir: dir });
    expect(missing).toEqual(expect.arrayContaining(['Mutation.recordPayment', 'Mutation.approveRepaymentPlan', 'Subscription.caseEvents']));
    expect(missing).not.toContain('Query.cases');
  });

  it('has every operation of sdk/operations/*.graphql in the generated method table (else: npm run sdk:generate)', () => {
    const names = fs
      .readdirSync(operationsDir)
      .filter((f) => f.endsWith('.graphql'))
      .flatMap((f) => parse(fs.readFileSync(path.join(operationsDir, f), 'utf8')).definitions)
      .flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.name!.value] : []));
    const methods = [...Object.keys(operations), ...Object.keys(subscriptions)].map((m) => m[0]!.toUpperCase() + m.slice(1));
    expect(methods.sort()).toEqual(names.sort());
    for (const [name, document] of Object.entries({ ...operations, ...subscriptions })) {
      const text = document.toString();
      expect(text, name).toMatch(new RegExp(`(query|mutation|subscription) ${name[0]!.toUpperCase()}${name.slice(1)}\\b`));
    }
    for (const name of Object.keys(connections)) expect(operations).toHaveProperty(name);
  });
});
