import { Tabs } from '@mantine/core';
import { useNavigate, useParams } from 'react-router';
import { PageHeader } from '../../components/PageHeader';
import { ChannelsTab } from './ChannelsTab';
import { RulesTab } from './RulesTab';
import { DeliveriesTab } from './DeliveriesTab';

const tabs = ['channels', 'rules', 'deliveries'] as const;

export function NotificationsPage() {
  const { tab = 'channels' } = useParams();
  const navigate = useNavigate();
  const current = (tabs as readonly string[]).includes(tab) ? tab : 'channels';
  return (
    <>
      <PageHeader
        title="Notifications"
        description="Alerts opening and resolving, and jobs finishing, routed by rules to webhooks, email and chat — retried, with every attempt logged."
      />
      <Tabs value={current} onChange={(v) => navigate(`/settings/notifications${v === 'channels' ? '' : `/${v}`}`)} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="channels">Channels</Tabs.Tab>
          <Tabs.Tab value="rules">Rules</Tabs.Tab>
          <Tabs.Tab value="deliveries">Delivery log</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="channels">
          <ChannelsTab />
        </Tabs.Panel>
        <Tabs.Panel value="rules">
          <RulesTab />
        </Tabs.Panel>
        <Tabs.Panel value="deliveries">
          <DeliveriesTab />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
