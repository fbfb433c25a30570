// The copy-paste commands that install and enrol an agent. The agent's binary is
// restic-manager-agent; "enroll" exchanges the one-time token for a credential and
// writes the config, "run" is the service (systemd unit or Windows service).

/** Quote for a POSIX shell. */
export function shQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote for PowerShell. */
export function psQuote(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, "''")}'`;
}

export function linuxCommands(server: string, token: string): string {
  return [
    '# 1. Install restic and put the agent binary on the PATH',
    'sudo apt-get install -y restic   # or your distribution’s package',
    'sudo install -m 0755 restic-manager-agent /usr/local/bin/',
    '',
    '# 2. Enrol this host (the token works once)',
    `sudo restic-manager-agent enroll --server ${shQuote(server)} --token ${shQuote(token)}`,
    '',
    '# 3. Start the agent as a service (or run it in the foreground: sudo restic-manager-agent run)',
    'sudo systemctl enable --now restic-manager-agent',
  ].join('\n');
}

export function windowsCommands(server: string, token: string): string {
  return [
    '# In an elevated PowerShell, in the folder holding restic-manager-agent.exe and restic.exe',
    '# 1. Enrol this host (the token works once)',
    `.\\restic-manager-agent.exe enroll --server ${psQuote(server)} --token ${psQuote(token)}`,
    '',
    '# 2. Register and start the Windows service',
    '.\\restic-manager-agent.exe service-install',
    'Start-Service restic-manager-agent',
  ].join('\n');
}

export function serverURL(loc: { origin: string } = window.location): string {
  return loc.origin;
}
