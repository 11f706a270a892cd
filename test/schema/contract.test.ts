import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../../scripts/print-schema.ts';

describe('the GraphQL contract', () => {
  it('schema/schema.graphql is what the code prints (run `npm run generate` and commit)', () => {
    const committed = fs.readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printedSchema());
  });

  it('keeps the root fields of API.md', () => {
    const printed = printedSchema();
    for (const field of ['viewer: Viewer!', 'node(id: ID!): Node', 'nodes(ids: [ID!]!): [Node]!', 'caseByNumber(number: String!): Case', 'contactPolicy(']) {
      expect(printed).toContain(field);
    }
    expect(printed).toMatch(/cases\(after: String, before: String, filter: CaseFilter, first: Int, last: Int, orderBy: CaseOrder\): CaseConnection!/);
    expect(printed).toMatch(/agencies\([^)]*\): AgencyConnection!/);
    expect(printed).toMatch(/auditEvents\([^)]*filter: AuditEventFilter[^)]*\): AuditEventConnection!/);
  });
});
