import { readFile } from 'node:fs/promises';

const TCP_LISTEN = '0A';

async function readProcTable(path: string): Promise<string[][]> {
  try {
    const text = await readFile(path, 'utf8');
    return text
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/));
  } catch {
    return [];
  }
}

/** TCP ports listening in the network namespace of `pid`, on any address. */
export async function listeningTcpPorts(pid: number): Promise<Set<number>> {
  const rows = [...(await readProcTable(`/proc/${pid}/net/tcp`)), ...(await readProcTable(`/proc/${pid}/net/tcp6`))];
  const ports = new Set<number>();
  for (const [, local, , state] of rows) {
    const port = local?.split(':')[1];
    if (state === TCP_LISTEN && port !== undefined) ports.add(Number.parseInt(port, 16));
  }
  return ports;
}

/** Third octets of the 192.168.x.0 routes in the network namespace of `pid`. */
export async function usedPrivateSubnets(pid: number): Promise<Set<number>> {
  const used = new Set<number>();
  for (const [, destination] of await readProcTable(`/proc/${pid}/net/route`)) {
    if (destination === undefined || destination.length !== 8) continue;
    // /proc/net/route prints addresses as little-endian hex: 192.168.122.0 is 007AA8C0.
    const octets = (destination.match(/../g) ?? []).map((byte) => Number.parseInt(byte, 16)).reverse();
    if (octets[0] === 192 && octets[1] === 168 && octets[2] !== undefined) used.add(octets[2]);
  }
  return used;
}
