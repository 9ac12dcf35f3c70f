import { inject } from 'vitest';
import { Connection } from '../../src/libvirt/index.ts';

export const NAT_NETWORK = 'virtql-nat';
export const DIR_POOL = 'virtql-pool';

/** The private libvirtd of this run, or the reason it could not start (checked at run time). */
export function privateDaemon(): { uri: string; testUri: string; kvm: boolean; root: string } | undefined {
  const ctx = inject('libvirtd');
  return 'unavailable' in ctx ? undefined : ctx;
}

export function privateDaemonSkipReason(): string | undefined {
  const ctx = inject('libvirtd');
  return 'unavailable' in ctx ? `no private libvirtd on this machine: ${ctx.unavailable}` : undefined;
}

export function openPrivateDaemon(): Promise<Connection> {
  const daemon = privateDaemon();
  if (!daemon) throw new Error(privateDaemonSkipReason());
  return Connection.open(daemon.uri);
}

/** A domain without an OS: enough for lifecycle, vCPU hot-add and USB hot-plug. */
export function bareDomainXml(name: string, kvm: boolean): string {
  return `<domain type="${kvm ? 'kvm' : 'qemu'}">
  <name>${name}</name>
  <memory unit="MiB">64</memory>
  <vcpu current="1">2</vcpu>
  <os><type arch="x86_64" machine="pc">hvm</type></os>
  <devices>
    <controller type="usb" model="piix3-uhci"/>
  </devices>
</domain>`;
}
