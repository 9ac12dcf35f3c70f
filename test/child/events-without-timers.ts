// Run as a child process: waits on libvirt events with no timer or other work in the process,
// so only the binding's own wake-up can deliver them; then closes and lets the process end.
import { Connection, type DomainLifecycleEvent } from '../../src/libvirt/index.ts';

const c = await Connection.open('test:///default');
let waiting: ((e: DomainLifecycleEvent) => void) | undefined;
await c.subscribe((e) => {
  if (e.kind === 'domain') waiting?.(e);
});

const timersWhileWaiting = new Set<string>();
async function expectEvent(action: () => Promise<unknown>): Promise<DomainLifecycleEvent> {
  const event = new Promise<DomainLifecycleEvent>((resolve) => {
    waiting = resolve;
  });
  await action();
  // One turn of the loop first: a one-off immediate has run by then (the full suite on a loaded machine
  // showed one here, queued outside the binding: src/libvirt sets no timers), while a timer or immediate
  // that keeps re-arming itself to poll for events — what this check is about — is still there.
  await new Promise<void>((resolve) => setImmediate(resolve));
  for (const r of process.getActiveResourcesInfo()) if (r === 'Timeout' || r === 'Immediate') timersWhileWaiting.add(r);
  return event;
}

const xml = `<domain type="test"><name>quiet</name><memory unit="KiB">65536</memory>
  <os><type arch="x86_64">hvm</type></os></domain>`;
const seen: string[] = [];
let d = await c.domainByName('test');
for (const action of [() => d.suspend(), () => d.resume(), () => d.destroy(), () => d.start()]) {
  const e = await expectEvent(action);
  seen.push(`${e.type}/${e.detail}`);
}
const defined = await expectEvent(async () => {
  d = await c.defineDomain(xml);
});
seen.push(`${defined.type}/${defined.detail}`);
const undefined_ = await expectEvent(() => d.undefine());
seen.push(`${undefined_.type}/${undefined_.detail}`);

await c.close();
process.stdout.write(`${JSON.stringify({ seen, timersWhileWaiting: [...timersWhileWaiting] })}\n`);
