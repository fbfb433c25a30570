import { PageHeader } from '../../components/PageHeader';
import { JobList } from '../host/HostJobsTab';

export function JobsPage() {
  return (
    <>
      <PageHeader title="Jobs" description="Every restic run across the fleet, newest first." />
      <JobList showHost />
    </>
  );
}
