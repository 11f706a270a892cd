import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, type Route } from './app.tsx';
import { QueuePage } from './pages/queue.tsx';
import { CasePage } from './pages/case.tsx';
import { VisitPage } from './pages/visit.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { AuditPage } from './pages/audit.tsx';
import { AdminPage } from './pages/admin.tsx';
import './style.css';

function page(route: Route) {
  switch (route.page) {
    case 'queue':
      return <QueuePage mode="queue" />;
    case 'cases':
      return <QueuePage mode="cases" />;
    case 'case':
      return <CasePage key={route.id} id={route.id} />;
    case 'visit':
      return <VisitPage key={route.id} caseId={route.caseId} id={route.id} />;
    case 'dashboard':
      return <DashboardPage />;
    case 'audit':
      return <AuditPage />;
    case 'admin':
      return <AdminPage />;
  }
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App pages={page} />
  </StrictMode>,
);
