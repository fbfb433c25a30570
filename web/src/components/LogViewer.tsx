// A live log viewer: follows new lines (scrolls to the end) until paused, searches with
// highlighting, and says how many lines arrived while paused.
import { useEffect, useMemo, useRef, useState } from 'react';
import { ActionIcon, Badge, Box, Button, Group, Paper, Text, TextInput, Tooltip } from '@mantine/core';
import { IconPlayerPause, IconPlayerPlay, IconSearch, IconX, IconArrowDown } from '@tabler/icons-react';
import type { LogLine } from '../api/client';
import { highlight, searchLines } from '../lib/logs';
import { formatDateTime } from '../lib/format';
import classes from './LogViewer.module.css';

const RENDER_LIMIT = 5000;

export function LogViewer({
  lines,
  live,
  height = 420,
  emptyText = 'No log lines yet.',
}: {
  lines: LogLine[];
  live: boolean;
  height?: number;
  emptyText?: string;
}) {
  const [paused, setPaused] = useState(false);
  const [query, setQuery] = useState('');
  // While paused, the view keeps the lines it had.
  const [frozen, setFrozen] = useState<LogLine[] | null>(null);
  const shown = paused && frozen ? frozen : lines;
  const matches = useMemo(() => searchLines(shown, query), [shown, query]);
  const visible = matches.length > RENDER_LIMIT ? matches.slice(matches.length - RENDER_LIMIT) : matches;
  const box = useRef<HTMLDivElement>(null);
  const newWhilePaused = paused && frozen ? lines.length - frozen.length : 0;

  useEffect(() => {
    if (paused || !box.current) return;
    box.current.scrollTop = box.current.scrollHeight;
  }, [visible.length, paused]);

  const togglePause = () => {
    if (paused) {
      setPaused(false);
      setFrozen(null);
    } else {
      setPaused(true);
      setFrozen(lines);
    }
  };

  return (
    <Paper withBorder radius="md" p={0}>
      <Group justify="space-between" p="xs" gap="xs" className={classes.toolbar}>
        <Group gap="xs">
          <TextInput
            size="xs"
            placeholder="Search the log"
            aria-label="Search the log"
            leftSection={<IconSearch size={14} />}
            value={query}
            onChange={(e) => setQuery(e.currentTarget.value)}
            rightSection={
              query ? (
                <ActionIcon size="sm" variant="subtle" onClick={() => setQuery('')} aria-label="Clear search">
                  <IconX size={12} />
                </ActionIcon>
              ) : null
            }
            w={240}
          />
          {query && (
            <Text size="xs" c="dimmed" aria-live="polite">
              {matches.length} of {shown.length} lines match
            </Text>
          )}
        </Group>
        <Group gap="xs">
          {live && !paused && (
            <Badge color="blue" variant="dot" aria-live="polite">
              following
            </Badge>
          )}
          {newWhilePaused > 0 && (
            <Badge color="gray" variant="light" leftSection={<IconArrowDown size={12} />}>
              {newWhilePaused} new
            </Badge>
          )}
          <Tooltip label={paused ? 'Resume following new lines' : 'Stop following new lines'} withArrow>
            <Button
              size="xs"
              variant="default"
              onClick={togglePause}
              leftSection={paused ? <IconPlayerPlay size={14} /> : <IconPlayerPause size={14} />}
              aria-pressed={paused}
            >
              {paused ? 'Resume' : 'Pause'}
            </Button>
          </Tooltip>
        </Group>
      </Group>
      <Box
        ref={box}
        className={classes.log}
        style={{ height }}
        role="log"
        aria-label="Job log"
        aria-live={paused ? 'off' : 'polite'}
        tabIndex={0}
        data-testid="log-viewer"
      >
        {shown.length === 0 ? (
          <Text c="dimmed" size="sm" p="sm">
            {emptyText}
          </Text>
        ) : matches.length === 0 ? (
          <Text c="dimmed" size="sm" p="sm">
            No line matches “{query}”.
          </Text>
        ) : (
          <>
            {matches.length > visible.length && (
              <Text c="dimmed" size="xs" px="sm" py={4}>
                {matches.length - visible.length} earlier lines not shown
              </Text>
            )}
            {visible.map((l) => (
              <div key={l.seq} className={classes.line} data-stream={l.stream}>
                <span className={classes.seq} title={formatDateTime(l.at)}>
                  {l.seq}
                </span>
                <span className={classes.text}>
                  {highlight(l.text ?? '', query).map((part, i) =>
                    part.match ? (
                      <mark key={i} className={classes.mark}>
                        {part.text}
                      </mark>
                    ) : (
                      <span key={i}>{part.text}</span>
                    ),
                  )}
                </span>
              </div>
            ))}
          </>
        )}
      </Box>
    </Paper>
  );
}
