// The SDK README's "Reports and exports" snippet, type-checked (npm run typecheck).
import type { ArrearsClient } from '../../sdk/src/index.ts';

export async function readmeSnippet(arrears: ArrearsClient): Promise<string | null | undefined> {
  const { portfolio } = await arrears.portfolio({ groupBy: ['BUCKET', 'AGENCY'], period: { from: '2026-11-01', to: '2026-11-30' } });
  void portfolio.groups.length;
  const { requestExport } = await arrears.requestExport({ input: { kind: 'PAYMENTS', format: 'XLSX' } });
  let file = requestExport.export!;
  while (file.status === 'PENDING' || file.status === 'RUNNING') {
    await new Promise((r) => setTimeout(r, 2000));
    const { node } = await arrears.export({ id: file.id });
    if (node?.__typename === 'Export') file = node;
  }
  return file.downloadUrl;
}
