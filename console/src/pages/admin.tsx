// Agencies and their users (bank admins: every agency; an agency manager: their own).
import { ErrorBox, Loading, useQuery, useUi } from '../app.tsx';
import { formatDate, formatNumber } from '../i18n.ts';

export function AdminPage() {
  const { t, lang } = useUi();
  const q = useQuery(async (client, signal) => (await client.agencyUsers({}, { signal })).agencies, []);
  if (q.error && !q.data) return <ErrorBox error={q.error} onRetry={q.reload} />;
  if (!q.data) return <Loading />;
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">{t('adminTitle')}</h1>
      {q.data.nodes.map((a) => (
        <section key={a.id} className="card" aria-labelledby={`agency-${a.code}`}>
          <h2 id={`agency-${a.code}`}>
            {a.name} <span className="muted">({a.code} · {a.status} · {a.licenseNumber})</span>
          </h2>
          <p>
            {t('cases')}: {formatNumber(lang, a.caseCount)}
          </p>
          <div className="table-wrap" tabIndex={0}>
            <table data-testid={`users-${a.code}`}>
              <thead>
                <tr>
                  <th scope="col">{t('fullName')}</th>
                  <th scope="col">{t('email')}</th>
                  <th scope="col">{t('role')}</th>
                  <th scope="col">{t('active')}</th>
                  <th scope="col">{t('credential')}</th>
                </tr>
              </thead>
              <tbody>
                {a.users.nodes.map((u) => (
                  <tr key={u.id}>
                    <td>{u.fullName}</td>
                    <td>{u.email}</td>
                    <td>{u.role}</td>
                    <td>{u.active ? t('yes') : t('no')}</td>
                    <td>{u.credentialNumber ? `${u.credentialNumber} (${formatDate(lang, u.credentialExpiresOn)})` : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ))}
    </section>
  );
}
