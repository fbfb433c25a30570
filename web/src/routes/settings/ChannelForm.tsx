// Create or edit a notification channel. Secrets are write-only: editing shows whether
// one is set and sends a value only when a new one is typed.
import { useState } from 'react';
import { Alert, Badge, Button, Group, PasswordInput, SegmentedControl, Select, Stack, Switch, TagsInput, Text, Textarea, TextInput } from '@mantine/core';
import { errorMessage, isApiError, type NotificationChannel } from '../../api/client';
import { useSaveChannel } from '../../api/queries/notifications';
import {
  channelErrors,
  channelToForm,
  fieldForChannelError,
  formToChannelInput,
  newChannelForm,
  type ChannelField,
  type ChannelForm as Form,
  type ChannelType,
} from '../../lib/channelForm';

function SetBadge({ set }: { set: boolean }) {
  return set ? (
    <Badge size="xs" color="green" variant="light" ml={6}>
      set
    </Badge>
  ) : null;
}

export function ChannelForm({ channel, onSaved, onCancel }: { channel?: NotificationChannel; onSaved: (ch: NotificationChannel) => void; onCancel: () => void }) {
  const [form, setForm] = useState<Form>(() => (channel ? channelToForm(channel) : newChannelForm()));
  const [submitted, setSubmitted] = useState(false);
  const save = useSaveChannel(channel?.id);
  const set = <K extends keyof Form>(k: K, v: Form[K]) => setForm({ ...form, [k]: v });
  const local = submitted ? channelErrors(form, channel) : {};
  const serverField = isApiError(save.error) ? fieldForChannelError(save.error.field) : undefined;
  const serverMsg = save.error ? errorMessage(save.error) : undefined;
  const err = (f: ChannelField) => local[f] ?? (serverField === f ? serverMsg : undefined);
  const keep = channel ? 'Leave empty to keep the current value' : undefined;

  return (
    <form
      aria-label="Notification channel"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setSubmitted(true);
        if (Object.keys(channelErrors(form, channel)).length > 0) return;
        save.mutate(formToChannelInput(form), { onSuccess: onSaved });
      }}
    >
      <Stack>
        <TextInput label="Name" required value={form.name} onChange={(e) => set('name', e.currentTarget.value)} error={err('name')} placeholder="e.g. ops webhook" data-autofocus />
        <div>
          <Text size="sm" fw={500} mb={4} id="channel-type-label">
            Type
          </Text>
          <SegmentedControl
            aria-labelledby="channel-type-label"
            fullWidth
            disabled={!!channel}
            value={form.type}
            onChange={(v) => set('type', v as ChannelType)}
            data={[
              { value: 'webhook', label: 'Webhook' },
              { value: 'email', label: 'Email' },
              { value: 'chat', label: 'Chat' },
            ]}
          />
        </div>
        {form.type === 'webhook' && (
          <>
            <TextInput
              label={
                <>
                  URL
                  {channel?.webhook && (
                    <Text span size="xs" c="dimmed" ml={6}>
                      now {channel.webhook.url_host}
                    </Text>
                  )}
                </>
              }
              required={!channel}
              description={keep ?? 'Each event is POSTed to it as JSON'}
              value={form.webhookUrl}
              onChange={(e) => set('webhookUrl', e.currentTarget.value)}
              error={err('webhook.url')}
              placeholder="https://hooks.example.com/restic-manager"
            />
            <PasswordInput
              label={
                <>
                  Signing secret
                  <SetBadge set={!!channel?.webhook?.secret_set} />
                </>
              }
              description={keep ?? 'Optional: signs the body (X-RM-Signature-256: sha256=HMAC)'}
              value={form.webhookSecret}
              onChange={(e) => set('webhookSecret', e.currentTarget.value)}
              error={err('webhook.secret')}
              autoComplete="new-password"
            />
            <Textarea
              label="Extra headers"
              description={
                channel?.webhook?.header_names?.length
                  ? `Now: ${channel.webhook.header_names.join(', ')}. Leave empty to keep them.`
                  : 'One “Name: value” per line'
              }
              value={form.webhookHeaders}
              onChange={(e) => set('webhookHeaders', e.currentTarget.value)}
              error={err('webhook.headers')}
              rows={2}
              placeholder="X-Team: ops"
            />
          </>
        )}
        {form.type === 'email' && (
          <>
            <Group grow align="flex-start">
              <TextInput label="SMTP server" required value={form.emailHost} onChange={(e) => set('emailHost', e.currentTarget.value)} error={err('email.host')} placeholder="smtp.example.com" />
              <TextInput label="Port" value={form.emailPort} onChange={(e) => set('emailPort', e.currentTarget.value)} error={err('email.port')} placeholder={form.emailSecurity === 'tls' ? '465' : form.emailSecurity === 'none' ? '25' : '587'} maw={120} />
            </Group>
            <Select
              label="Security"
              data={[
                { value: 'starttls', label: 'STARTTLS (required)' },
                { value: 'tls', label: 'Implicit TLS' },
                { value: 'none', label: 'None (trusted relay)' },
              ]}
              value={form.emailSecurity}
              onChange={(v) => set('emailSecurity', (v as Form['emailSecurity']) ?? 'starttls')}
              error={err('email.security')}
              allowDeselect={false}
            />
            <Group grow align="flex-start">
              <TextInput label="Username" value={form.emailUsername} onChange={(e) => set('emailUsername', e.currentTarget.value)} error={err('email.username')} autoComplete="off" />
              <PasswordInput
                label={
                  <>
                    Password
                    <SetBadge set={!!channel?.email?.password_set} />
                  </>
                }
                description={channel?.email?.password_set ? 'Leave empty to keep it' : undefined}
                value={form.emailPassword}
                onChange={(e) => set('emailPassword', e.currentTarget.value)}
                error={err('email.password')}
                autoComplete="new-password"
              />
            </Group>
            <TextInput label="From" required value={form.emailFrom} onChange={(e) => set('emailFrom', e.currentTarget.value)} error={err('email.from')} placeholder="Restic Manager <backup@example.com>" />
            <TagsInput label="To" required description="Press Enter after each address" value={form.emailTo} onChange={(v) => set('emailTo', v)} error={err('email.to')} />
          </>
        )}
        {form.type === 'chat' && (
          <PasswordInput
            label={
              <>
                Service URL
                {channel?.chat && (
                  <Text span size="xs" c="dimmed" ml={6}>
                    now {channel.chat.service}
                  </Text>
                )}
              </>
            }
            required={!channel}
            description={keep ?? 'A shoutrrr URL: slack://…, discord://…, telegram://…, ntfy://…, gotify://… — it holds tokens, so it is never shown again'}
            value={form.chatUrl}
            onChange={(e) => set('chatUrl', e.currentTarget.value)}
            error={err('chat.url')}
            autoComplete="off"
          />
        )}
        <Switch label="Enabled" checked={form.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />
        {(local.form || (save.isError && serverField === 'form')) && (
          <Alert color="red" variant="light" role="alert">
            {local.form ?? serverMsg}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {channel ? 'Save channel' : 'Add channel'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
