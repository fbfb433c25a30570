import { Route, Routes } from 'react-router';
import { AppLayout } from './components/AppLayout';
import { RequireAuth, RequireRole } from './auth';
import { LoginPage } from './routes/login/LoginPage';
import { DashboardPage } from './routes/dashboard/DashboardPage';
import { HostsPage } from './routes/hosts/HostsPage';
import { HostPage } from './routes/host/HostPage';
import { ScheduleEditorPage } from './routes/schedule/ScheduleEditorPage';
import { JobPage } from './routes/job/JobPage';
import { JobsPage } from './routes/jobs/JobsPage';
import { AddHostPage } from './routes/add-host/AddHostPage';
import { UsersPage } from './routes/admin/UsersPage';
import { AuditPage } from './routes/admin/AuditPage';
import { ApiTokensPage } from './routes/settings/ApiTokensPage';
import { AccountPage } from './routes/account/AccountPage';
import { AlertsPage } from './routes/alerts/AlertsPage';
import { AlertPage } from './routes/alerts/AlertPage';
import { NotificationsPage } from './routes/settings/NotificationsPage';
import { SnapshotBrowserPage } from './routes/browse/SnapshotBrowserPage';
import { DiffPage } from './routes/browse/DiffPage';
import { NotFoundPage } from './routes/NotFoundPage';

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/setup" element={<LoginPage />} />
      <Route
        element={
          <RequireAuth>
            <AppLayout />
          </RequireAuth>
        }
      >
        <Route index element={<DashboardPage />} />
        <Route path="hosts" element={<HostsPage />} />
        <Route path="hosts/:hostId" element={<HostPage />} />
        <Route path="hosts/:hostId/:tab" element={<HostPage />} />
        <Route
          path="hosts/:hostId/schedules/new"
          element={
            <RequireRole role="operator">
              <ScheduleEditorPage />
            </RequireRole>
          }
        />
        <Route path="hosts/:hostId/schedules/:scheduleId" element={<ScheduleEditorPage />} />
        <Route path="hosts/:hostId/repositories/:repoId/snapshots/:snapId" element={<SnapshotBrowserPage />} />
        <Route path="hosts/:hostId/repositories/:repoId/diff" element={<DiffPage />} />
        <Route path="alerts" element={<AlertsPage />} />
        <Route path="alerts/:alertId" element={<AlertPage />} />
        <Route path="jobs" element={<JobsPage />} />
        <Route path="jobs/:jobId" element={<JobPage />} />
        <Route
          path="add-host"
          element={
            <RequireRole role="operator">
              <AddHostPage />
            </RequireRole>
          }
        />
        <Route path="settings/api-tokens" element={<ApiTokensPage />} />
        <Route path="settings/notifications" element={<NotificationsPage />} />
        <Route path="settings/notifications/:tab" element={<NotificationsPage />} />
        <Route path="account" element={<AccountPage />} />
        <Route
          path="admin/users"
          element={
            <RequireRole role="admin">
              <UsersPage />
            </RequireRole>
          }
        />
        <Route
          path="admin/audit"
          element={
            <RequireRole role="admin">
              <AuditPage />
            </RequireRole>
          }
        />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
