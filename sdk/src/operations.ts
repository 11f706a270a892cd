// The client's typed methods: method name → generated document. Adding an operation is one
// .graphql file (or one more operation in one), `npm run sdk:generate`, and one line here.
import {
  AgenciesDocument,
  CaseByNumberDocument,
  CaseDetailDocument,
  CasesDocument,
  NodeDocument,
  ViewerDocument,
} from './generated/graphql.ts';

export const operations = {
  viewer: ViewerDocument,
  cases: CasesDocument,
  caseByNumber: CaseByNumberDocument,
  caseDetail: CaseDetailDocument,
  agencies: AgenciesDocument,
  node: NodeDocument,
} as const;
