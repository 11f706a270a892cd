// The client's methods, generated from operations/*.graphql by codegen (codegen/operations-plugin.ts):
// adding an operation is one .graphql file (or one more operation in one) and `npm run sdk:generate`.
export { connections, operations, subscriptions } from './generated/operations.ts';
