// A tiny web app on the built @arrears/sdk (sdk/dist, through the package's exports): it lists
// the viewer's cases, page by page, and uploads the file chosen for the first one. The API's
// address and a token come in the query string (?api=…&token=…): this page exists for
// test/browser/sdk.browser.test.ts.
import { createArrearsClient, isArrearsError } from '@arrears/sdk';

const params = new URLSearchParams(location.search);
const arrears = createArrearsClient({ url: params.get('api'), token: params.get('token'), headers: { 'x-client-name': 'browser-test' } });
const $ = (selector) => document.querySelector(selector);

function fail(error) {
  $('#error').textContent = isArrearsError(error) ? `${error.kind}: ${error.message} (request ${error.requestId ?? 'n/a'})` : String(error);
  document.body.dataset.state = 'error';
}

async function listCases() {
  const { viewer } = await arrears.viewer();
  $('#viewer').textContent = `${viewer.user.fullName} (${viewer.role})`;
  const cases = [];
  for await (const c of arrears.paginate.cases({ first: 2, orderBy: { field: 'DAYS_PAST_DUE', direction: 'DESC' } }).nodes()) {
    const item = document.createElement('li');
    item.dataset.id = c.id;
    item.textContent = `${c.number} · ${c.debtor.fullName} · ${c.overdue.formatted} · ${c.daysPastDue} days`;
    $('#cases').append(item);
    cases.push(c);
  }
  $('#count').textContent = String(cases.length);
  document.body.dataset.state = 'listed';
  return cases;
}

async function upload(caseId, file) {
  const { uploadEvidence } = await arrears.uploadEvidence(
    { input: { caseId, kind: 'NOTE', description: 'Uploaded from the browser', file } },
    { throwOnUserErrors: true },
  );
  const e = uploadEvidence.evidence;
  $('#result').textContent = `Uploaded ${e.fileName} (${e.contentType}, ${e.sizeBytes} bytes, sha256 ${e.sha256})`;
  document.body.dataset.state = 'uploaded';
}

listCases()
  .then((cases) => {
    $('#upload').addEventListener('submit', (event) => {
      event.preventDefault();
      const file = $('#file').files[0];
      if (!file || cases.length === 0) return fail(new Error('Choose a file; a case is needed'));
      upload(cases[0].id, file).catch(fail);
    });
  })
  .catch(fail);
