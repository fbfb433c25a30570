import { useState } from 'react';
import { Badge, Button, Group, Modal, Stack, Tabs, Text, TextInput, TagsInput, Menu } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconDots, IconEdit, IconPlayerPlay, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useNavigate, useParams } from 'react-router';
import { hostQuery, useDecommissionHost, useUpdateHost } from '../../api/queries/hosts';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState, FullPageLoader } from '../../components/States';
import { HostStatusBadge } from '../../components/StatusBadge';
import { ConfirmModal } from '../../components/ConfirmModal';
import { Can } from '../../auth';
import { errorMessage, type Host } from '../../api/client';
import { notifyError, notifyOk } from '../../lib/notify';
import { OverviewTab } from './OverviewTab';
import { SchedulesTab } from './SchedulesTab';
import { HostJobsTab } from './HostJobsTab';
import { SnapshotsTab } from './SnapshotsTab';
import { RepositoriesTab } from './RepositoriesTab';
import { RunNowModal } from './RunNowModal';

const tabs = ['overview', 'schedules', 'jobs', 'snapshots', 'repositories'] as const;

function labelsToTags(l?: Record<string, string>) {
  return Object.entries(l ?? {}).map(([k, v]) => (v ? `${k}=${v}` : k));
}
function tagsToLabels(t: string[]) {
  const out: Record<string, string> = {};
  for (const s of t) {
    const i = s.indexOf('=');
    if (i < 0) out[s.trim()] = '';
    else out[s.slice(0, i).trim()] = s.slice(i + 1).trim();
  }
  return out;
}

function EditHostModal({ host, opened, onClose }: { host: Host; opened: boolean; onClose: () => void }) {
  const update = useUpdateHost(host.id!);
  const [name, setName] = useState(host.name ?? '');
  const [labels, setLabels] = useState(labelsToTags(host.labels));
  return (
    <Modal opened={opened} onClose={onClose} title="Edit host" centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate(
            { name, labels: tagsToLabels(labels) },
            { onSuccess: () => (notifyOk('Host updated'), onClose()) },
          );
        }}
      >
        <Stack>
          <TextInput label="Display name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
          <TagsInput
            label="Labels"
            description="key=value or key; press Enter after each"
            value={labels}
            onChange={setLabels}
          />
          {update.isError && (
            <Text c="red" size="sm" role="alert">
              {errorMessage(update.error)}
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={update.isPending}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function HostPage() {
  const { hostId = '', tab = 'overview' } = useParams();
  const navigate = useNavigate();
  const host = useQuery(hostQuery(hostId));
  const [editOpen, edit] = useDisclosure();
  const [runOpen, run] = useDisclosure();
  const [decomOpen, decom] = useDisclosure();
  const decommission = useDecommissionHost(hostId);
  const current = (tabs as readonly string[]).includes(tab) ? tab : 'overview';

  if (host.isPending) return <FullPageLoader label="Loading host…" />;
  if (host.isError) return <ErrorState error={host.error} onRetry={() => host.refetch()} />;
  const h = host.data;
  const decommissioned = h.status === 'decommissioned';
  const pendingSync = (h.schedule_version ?? 0) > (h.schedule_applied_version ?? 0);

  return (
    <>
      <PageHeader
        crumbs={[{ label: 'Hosts', to: '/hosts' }, { label: h.name || h.hostname || hostId }]}
        title={
          <Group gap="sm">
            <span>{h.name || h.hostname}</span>
            <HostStatusBadge status={h.status} lastSeen={h.last_seen_at} />
            {pendingSync && !decommissioned && (
              <Badge color="yellow" variant="light" title="The agent has not applied the latest schedules yet">
                sync pending
              </Badge>
            )}
          </Group>
        }
        description={`${h.hostname ?? ''}${h.os ? ` · ${h.os}/${h.arch}` : ''}`}
        actions={
          !decommissioned && (
            <Can role="operator">
              <Button leftSection={<IconPlayerPlay size={16} />} onClick={run.open}>
                Run now
              </Button>
              <Menu position="bottom-end">
                <Menu.Target>
                  <Button variant="default" aria-label="More host actions" px="xs">
                    <IconDots size={18} />
                  </Button>
                </Menu.Target>
                <Menu.Dropdown>
                  <Menu.Item leftSection={<IconEdit size={16} />} onClick={edit.open}>
                    Rename or edit labels
                  </Menu.Item>
                  <Menu.Item color="red" leftSection={<IconTrash size={16} />} onClick={decom.open}>
                    Decommission
                  </Menu.Item>
                </Menu.Dropdown>
              </Menu>
            </Can>
          )
        }
      />
      <Tabs value={current} onChange={(v) => navigate(`/hosts/${hostId}${v === 'overview' ? '' : `/${v}`}`)} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="overview">Overview</Tabs.Tab>
          <Tabs.Tab value="schedules">Schedules</Tabs.Tab>
          <Tabs.Tab value="jobs">Jobs</Tabs.Tab>
          <Tabs.Tab value="snapshots">Snapshots</Tabs.Tab>
          <Tabs.Tab value="repositories">Repositories</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview">
          <OverviewTab host={h} />
        </Tabs.Panel>
        <Tabs.Panel value="schedules">
          <SchedulesTab host={h} />
        </Tabs.Panel>
        <Tabs.Panel value="jobs">
          <HostJobsTab hostId={hostId} />
        </Tabs.Panel>
        <Tabs.Panel value="snapshots">
          <SnapshotsTab hostId={hostId} />
        </Tabs.Panel>
        <Tabs.Panel value="repositories">
          <RepositoriesTab host={h} />
        </Tabs.Panel>
      </Tabs>
      {editOpen && <EditHostModal host={h} opened={editOpen} onClose={edit.close} />}
      {runOpen && <RunNowModal hostId={hostId} opened={runOpen} onClose={run.close} />}
      <ConfirmModal
        opened={decomOpen}
        onClose={decom.close}
        title="Decommission this host?"
        confirmLabel="Decommission"
        loading={decommission.isPending}
        onConfirm={() =>
          decommission.mutate(undefined, {
            onSuccess: () => (notifyOk('Host decommissioned'), decom.close()),
            onError: (e) => notifyError('Could not decommission', e),
          })
        }
      >
        <Text size="sm">
          Its agent’s credential stops working and its schedules stop. Its jobs and snapshots stay listed. This cannot be
          undone: enrol the machine again to bring it back.
        </Text>
      </ConfirmModal>
    </>
  );
}
