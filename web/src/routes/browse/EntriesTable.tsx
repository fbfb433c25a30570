// A listing of snapshot entries (a directory page, search or find results): folders open
// as links, operators select entries and get download and restore actions per row.
import { ActionIcon, Anchor, Checkbox, Group, Menu, Table, Text, Tooltip } from '@mantine/core';
import { IconDownload, IconFile, IconFileSymlink, IconFolder, IconRestore } from '@tabler/icons-react';
import { Link } from 'react-router';
import type { DirEntry } from '../../api/client';
import { formatBytes, formatDateTime, formatRelative } from '../../lib/format';
import { baseName, parentPath } from '../../lib/browsePath';

export type Entry = Pick<DirEntry, 'name' | 'path' | 'type' | 'size' | 'mtime' | 'permissions'> & { snapshot?: string };

export type EntriesTableProps = {
  entries: Entry[];
  /** The link that opens a folder (of this or another snapshot). */
  dirLink: (e: Entry) => string;
  /** Show the full path (search results) rather than the name. */
  showPath?: boolean;
  /** Operators: selection and actions. */
  canAct?: boolean;
  selected?: Set<string>;
  onToggle?: (e: Entry, on: boolean) => void;
  onToggleAll?: (on: boolean) => void;
  onDownload?: (e: Entry, archive?: 'tar' | 'zip') => void;
  onRestore?: (e: Entry) => void;
  extraColumn?: { title: string; cell: (e: Entry) => React.ReactNode };
  label?: string;
};

function TypeIcon({ type }: { type: string }) {
  if (type === 'dir') return <IconFolder size={18} color="var(--mantine-color-yellow-6)" aria-hidden="true" />;
  if (type === 'symlink') return <IconFileSymlink size={18} aria-hidden="true" />;
  return <IconFile size={18} color="var(--mantine-color-dimmed)" aria-hidden="true" />;
}

export function EntriesTable({ entries, dirLink, showPath, canAct, selected, onToggle, onToggleAll, onDownload, onRestore, extraColumn, label = 'Entries' }: EntriesTableProps) {
  const all = entries.length > 0 && entries.every((e) => selected?.has(e.path));
  const some = entries.some((e) => selected?.has(e.path));
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table verticalSpacing={6} highlightOnHover aria-label={label} data-testid="entries">
        <Table.Thead>
          <Table.Tr>
            {canAct && (
              <Table.Th w={36}>
                <Checkbox aria-label="Select all on this page" checked={all} indeterminate={some && !all} onChange={(e) => onToggleAll?.(e.currentTarget.checked)} />
              </Table.Th>
            )}
            <Table.Th>{showPath ? 'Path' : 'Name'}</Table.Th>
            {extraColumn && <Table.Th>{extraColumn.title}</Table.Th>}
            <Table.Th style={{ textAlign: 'right' }}>Size</Table.Th>
            <Table.Th>Modified</Table.Th>
            <Table.Th>Mode</Table.Th>
            {canAct && <Table.Th w={90} />}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {entries.map((e) => {
            const isDir = e.type === 'dir';
            const shown = showPath ? e.path : e.name || baseName(e.path);
            return (
              <Table.Tr key={`${e.snapshot ?? ''}:${e.path}`} data-testid="entry-row" data-type={e.type} data-name={e.name}>
                {canAct && (
                  <Table.Td>
                    <Checkbox aria-label={`Select ${e.name || e.path}`} checked={!!selected?.has(e.path)} onChange={(ev) => onToggle?.(e, ev.currentTarget.checked)} />
                  </Table.Td>
                )}
                <Table.Td>
                  <Group gap={8} wrap="nowrap">
                    <TypeIcon type={e.type} />
                    {isDir ? (
                      <Anchor component={Link} to={dirLink(e)} size="sm" fw={600} style={{ wordBreak: 'break-all' }}>
                        {shown}
                      </Anchor>
                    ) : (
                      <Text size="sm" style={{ wordBreak: 'break-all' }}>
                        {shown}
                        {showPath && (
                          <Anchor component={Link} to={dirLink({ ...e, type: 'dir', path: parentPath(e.path) })} size="xs" ml={8}>
                            open folder
                          </Anchor>
                        )}
                      </Text>
                    )}
                  </Group>
                </Table.Td>
                {extraColumn && <Table.Td>{extraColumn.cell(e)}</Table.Td>}
                <Table.Td style={{ textAlign: 'right' }}>
                  <Text size="sm">{e.type === 'file' ? formatBytes(e.size) : ''}</Text>
                </Table.Td>
                <Table.Td>
                  <Tooltip label={formatRelative(e.mtime)} withArrow>
                    <Text size="sm">{formatDateTime(e.mtime)}</Text>
                  </Tooltip>
                </Table.Td>
                <Table.Td>
                  <Text size="xs" ff="monospace" c="dimmed">
                    {e.permissions}
                  </Text>
                </Table.Td>
                {canAct && (
                  <Table.Td>
                    <Group gap={2} wrap="nowrap" justify="flex-end">
                      {e.type === 'file' && (
                        <Tooltip label="Download" withArrow>
                          <ActionIcon variant="subtle" aria-label={`Download ${e.name}`} onClick={() => onDownload?.(e)}>
                            <IconDownload size={16} />
                          </ActionIcon>
                        </Tooltip>
                      )}
                      {isDir && (
                        <Menu position="bottom-end" withArrow>
                          <Menu.Target>
                            <ActionIcon variant="subtle" aria-label={`Download ${e.name}`}>
                              <IconDownload size={16} />
                            </ActionIcon>
                          </Menu.Target>
                          <Menu.Dropdown>
                            <Menu.Label>Download the folder</Menu.Label>
                            <Menu.Item onClick={() => onDownload?.(e, 'tar')}>as .tar</Menu.Item>
                            <Menu.Item onClick={() => onDownload?.(e, 'zip')}>as .zip</Menu.Item>
                          </Menu.Dropdown>
                        </Menu>
                      )}
                      <Tooltip label="Restore…" withArrow>
                        <ActionIcon variant="subtle" aria-label={`Restore ${e.name}`} onClick={() => onRestore?.(e)}>
                          <IconRestore size={16} />
                        </ActionIcon>
                      </Tooltip>
                    </Group>
                  </Table.Td>
                )}
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
