// The application frame: navigation, the colour-scheme switch and the account menu.
import type { ReactNode } from 'react';
import {
  ActionIcon,
  AppShell,
  Avatar,
  Badge,
  Burger,
  Group,
  Menu,
  NavLink,
  ScrollArea,
  Text,
  Title,
  Tooltip,
  UnstyledButton,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import {
  IconActivity,
  IconBell,
  IconBellRinging,
  IconCirclePlus,
  IconDashboard,
  IconKey,
  IconListDetails,
  IconLogout,
  IconMoon,
  IconSend,
  IconServer,
  IconSun,
  IconUser,
  IconUsers,
  IconShieldCheck,
} from '@tabler/icons-react';
import { NavLink as RouterLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { useLogout } from '../api/queries/auth';
import { healthSummaryQuery } from '../api/queries/health';
import { roleAtLeast, useMe } from '../auth';

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme('light', { getInitialValueInEffect: true });
  const dark = computed === 'dark';
  return (
    <Tooltip label={dark ? 'Light mode' : 'Dark mode'} withArrow>
      <ActionIcon
        variant="default"
        size="lg"
        onClick={() => setColorScheme(dark ? 'light' : 'dark')}
        aria-label={dark ? 'Switch to light mode' : 'Switch to dark mode'}
      >
        {dark ? <IconSun size={18} /> : <IconMoon size={18} />}
      </ActionIcon>
    </Tooltip>
  );
}

function AccountMenu() {
  const { data: me } = useMe();
  const logout = useLogout();
  const navigate = useNavigate();
  const name = me?.user?.name || me?.user?.email || 'Account';
  const initials = name
    .split(/[\s@.]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((p) => p[0]?.toUpperCase())
    .join('');
  return (
    <Menu position="bottom-end" width={240} withArrow>
      <Menu.Target>
        <UnstyledButton aria-label="Account menu" data-testid="account-menu">
          <Group gap="xs">
            <Avatar radius="xl" size={32} color="blue">
              {initials}
            </Avatar>
            <div style={{ lineHeight: 1.1 }}>
              <Text size="sm" fw={600} visibleFrom="sm">
                {name}
              </Text>
              <Text size="xs" c="dimmed" visibleFrom="sm">
                {me?.role}
              </Text>
            </div>
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>{me?.user?.email}</Menu.Label>
        <Menu.Item leftSection={<IconUser size={16} />} onClick={() => navigate('/account')}>
          Account and sessions
        </Menu.Item>
        <Menu.Item leftSection={<IconKey size={16} />} onClick={() => navigate('/settings/api-tokens')}>
          API tokens
        </Menu.Item>
        <Menu.Divider />
        <Menu.Item
          color="red"
          leftSection={<IconLogout size={16} />}
          onClick={() => logout.mutate(undefined, { onSettled: () => navigate('/login') })}
        >
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

function Nav({ to, label, icon, end, badge }: { to: string; label: string; icon: ReactNode; end?: boolean; badge?: ReactNode }) {
  const loc = useLocation();
  const active = end ? loc.pathname === to : loc.pathname === to || loc.pathname.startsWith(to + '/');
  return <NavLink component={RouterLink} to={to} end={end} label={label} leftSection={icon} rightSection={badge} active={active} />;
}

/** The Alerts entry, with the number of open alerts (red when one is critical). */
function AlertsNav() {
  const { data } = useQuery(healthSummaryQuery());
  const open = data?.open_alerts ?? 0;
  const critical = data?.open_alerts_by_severity?.critical ?? 0;
  return (
    <Nav
      to="/alerts"
      label="Alerts"
      icon={open ? <IconBellRinging size={18} /> : <IconBell size={18} />}
      badge={
        open > 0 ? (
          <Badge size="sm" color={critical ? 'red' : 'yellow'} variant="filled" circle={open < 10} aria-label={`${open} open alerts`}>
            {open > 99 ? '99+' : open}
          </Badge>
        ) : undefined
      }
    />
  );
}

export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { data: me } = useMe();
  const role = me?.role;
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <IconShieldCheck size={26} color="var(--mantine-color-blue-filled)" aria-hidden="true" />
            <Title order={4} component="span">
              Restic Manager
            </Title>
          </Group>
          <Group gap="sm">
            <ColorSchemeToggle />
            <AccountMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <ScrollArea onClick={close}>
          <Nav to="/" end label="Dashboard" icon={<IconDashboard size={18} />} />
          <AlertsNav />
          <Nav to="/hosts" label="Hosts" icon={<IconServer size={18} />} />
          <Nav to="/jobs" label="Jobs" icon={<IconActivity size={18} />} />
          {roleAtLeast(role, 'operator') && (
            <Nav to="/add-host" label="Add a host" icon={<IconCirclePlus size={18} />} />
          )}
          <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" pt="md" pb={4}>
            Settings
          </Text>
          <Nav to="/settings/notifications" label="Notifications" icon={<IconSend size={18} />} />
          <Nav to="/settings/api-tokens" label="API tokens" icon={<IconKey size={18} />} />
          {roleAtLeast(role, 'admin') && (
            <>
              <Text size="xs" fw={700} c="dimmed" tt="uppercase" px="sm" pt="md" pb={4}>
                Administration
              </Text>
              <Nav to="/admin/users" label="Users" icon={<IconUsers size={18} />} />
              <Nav to="/admin/audit" label="Audit log" icon={<IconListDetails size={18} />} />
            </>
          )}
        </ScrollArea>
      </AppShell.Navbar>
      <AppShell.Main>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}
