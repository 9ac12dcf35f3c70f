import { join } from 'node:path';

/** Where a private daemon keeps its files; everything lives under `root`. */
export interface LibvirtdLayout {
  root: string;
  /** Bind-mounted over /etc/libvirt, /var/lib/libvirt, /run/libvirt and /var/log/libvirt in the daemon's mount namespace. */
  etc: string;
  lib: string;
  run: string;
  log: string;
  /** Outside the bind mounts so the host namespace reaches the sockets. */
  sock: string;
  pool: string;
  xml: string;
  libvirtdConf: string;
  qemuConf: string;
  virtlogdConf: string;
  libvirtdPid: string;
  virtlogdPid: string;
  libvirtdLog: string;
  virtlogdLog: string;
  /** Bind-mounted over /etc/passwd and /etc/group: the host's accounts plus libvirt's QEMU account. */
  passwd: string;
  group: string;
  /** Written from inside the namespace: its `mnt:[…]` identity. */
  mntNs: string;
  /** SASL_CONF_PATH of the daemon: its libvirt.conf (mech_list, sasldb_path) and sasldb, so /etc/sasl2 is not used. */
  sasl: string;
}

export function createLayout(root: string): LibvirtdLayout {
  const etc = join(root, 'etc');
  return {
    root,
    etc,
    lib: join(root, 'lib'),
    run: join(root, 'run'),
    log: join(root, 'log'),
    sock: join(root, 'sock'),
    pool: join(root, 'pool'),
    xml: join(root, 'xml'),
    libvirtdConf: join(etc, 'libvirtd.conf'),
    qemuConf: join(etc, 'qemu.conf'),
    virtlogdConf: join(etc, 'virtlogd.conf'),
    libvirtdPid: join(root, 'libvirtd.pid'),
    virtlogdPid: join(root, 'virtlogd.pid'),
    libvirtdLog: join(root, 'libvirtd.log'),
    virtlogdLog: join(root, 'virtlogd.log'),
    passwd: join(root, 'passwd'),
    group: join(root, 'group'),
    mntNs: join(root, 'mnt-ns'),
    sasl: join(root, 'sasl2'),
  };
}

/** libvirt's config parser has no escapes: refuse values that would need one. */
function confString(value: string): string {
  if (/["\n\\]/.test(value)) throw new Error(`cannot put ${JSON.stringify(value)} in a libvirt config file`);
  return `"${value}"`;
}

export function buildLibvirtdConf(options: {
  layout: LibvirtdLayout;
  hostUuid: string;
  tcpPort?: number;
  /** What the TCP listener asks of clients. @default 'none' */
  tcpAuth?: 'none' | 'sasl';
  /** Listen for TLS on 127.0.0.1 with the CA, certificate and key in `dir` (cacert.pem, servercert.pem, serverkey.pem). */
  tls?: { port: number; dir: string };
}): string {
  const { layout, hostUuid, tcpPort, tls } = options;
  const lines = [
    `unix_sock_dir = ${confString(layout.sock)}`,
    'auth_unix_rw = "none"',
    'auth_unix_ro = "none"',
    `host_uuid = ${confString(hostUuid)}`,
    `log_outputs = ${confString(`3:file:${layout.libvirtdLog}`)}`,
  ];
  if (tls !== undefined) {
    lines.push(
      'listen_tls = 1',
      `tls_port = "${tls.port}"`,
      `ca_file = ${confString(join(tls.dir, 'cacert.pem'))}`,
      `cert_file = ${confString(join(tls.dir, 'servercert.pem'))}`,
      `key_file = ${confString(join(tls.dir, 'serverkey.pem'))}`,
    );
  } else {
    lines.push('listen_tls = 0');
  }
  if (tls !== undefined || tcpPort !== undefined) lines.push('listen_addr = "127.0.0.1"');
  if (tcpPort !== undefined) {
    const auth = options.tcpAuth ?? 'none';
    lines.push('listen_tcp = 1', `auth_tcp = "${auth}"`, `tcp_port = "${tcpPort}"`);
  } else {
    lines.push('listen_tcp = 0');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Cyrus SASL's config for the service "libvirt", read from SASL_CONF_PATH. DIGEST-MD5 because
 * libvirt wants a security layer (SSF >= 56) on plain TCP, which SCRAM and PLAIN lack, and
 * GSSAPI needs Kerberos.
 */
export function buildSaslConf(layout: LibvirtdLayout): string {
  return `mech_list: digest-md5\nsasldb_path: ${join(layout.sasl, 'sasldb2')}\n`;
}

/**
 * root:root because without udev /dev/kvm is root-only, and libvirt re-probes
 * QEMU on every call when its user cannot open it. No per-guest mount
 * namespace: qemu shares the daemon's, which is private already.
 */
export function buildQemuConf(): string {
  return [
    'user = "root"',
    'group = "root"',
    'remember_owner = 0',
    'security_driver = "none"',
    'namespaces = [ ]',
    '',
  ].join('\n');
}

export function buildVirtlogdConf(layout: LibvirtdLayout): string {
  return `log_outputs = ${confString(`3:file:${layout.virtlogdLog}`)}\n`;
}

/**
 * Debian's QEMU driver looks up its built-in account (libvirt-qemu:libvirt-qemu)
 * before it reads qemu.conf and refuses to start without it. Only
 * libvirt-daemon-system creates it, so the daemon gets passwd/group files that
 * add it when the host lacks it.
 */
export const QEMU_ACCOUNT = 'libvirt-qemu';

function hasEntry(table: string, name: string): boolean {
  return table.split('\n').some((line) => line.split(':')[0] === name);
}

function freeId(table: string, from: number): number {
  const used = new Set(table.split('\n').map((line) => Number(line.split(':')[2])));
  let id = from;
  while (used.has(id)) id += 1;
  return id;
}

export function addQemuAccount(passwd: string, group: string): { passwd: string; group: string } {
  const withNewline = (table: string) => (table === '' || table.endsWith('\n') ? table : `${table}\n`);
  let groupOut = withNewline(group);
  if (!hasEntry(groupOut, QEMU_ACCOUNT)) groupOut += `${QEMU_ACCOUNT}:x:${freeId(groupOut, 64055)}:\n`;
  let passwdOut = withNewline(passwd);
  if (!hasEntry(passwdOut, QEMU_ACCOUNT)) {
    const gid = groupOut
      .split('\n')
      .find((line) => line.startsWith(`${QEMU_ACCOUNT}:`))
      ?.split(':')[2];
    passwdOut += `${QEMU_ACCOUNT}:x:${freeId(passwdOut, 64055)}:${gid}:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\n`;
  }
  return { passwd: passwdOut, group: groupOut };
}

export const NETWORK_NAME = 'virtql-nat';
export const POOL_NAME = 'virtql-pool';

/** A NAT network on 192.168.`octet`.0/24 behind bridge `bridge` (at most 15 characters). */
export function buildNetworkXml(bridge: string, octet: number): string {
  const prefix = `192.168.${octet}`;
  return `<network>
  <name>${NETWORK_NAME}</name>
  <forward mode='nat'/>
  <bridge name='${bridge}' stp='on' delay='0'/>
  <ip address='${prefix}.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='${prefix}.2' end='${prefix}.254'/>
    </dhcp>
  </ip>
</network>
`;
}

export function buildPoolXml(path: string): string {
  if (/[<>&'"]/.test(path)) throw new Error(`cannot put ${JSON.stringify(path)} in pool XML`);
  return `<pool type='dir'>
  <name>${POOL_NAME}</name>
  <target>
    <path>${path}</path>
  </target>
</pool>
`;
}
