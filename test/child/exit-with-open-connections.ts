// Run as a child process: exits through process.exit() while connections are open, events
// are registered and more events are in flight. The parent checks the exit status.
import { Connection } from '../../src/libvirt/index.ts';

const uris = process.argv.slice(2);
const connections = await Promise.all(uris.map((uri) => Connection.open(uri)));
let events = 0;
for (const c of connections) {
  await c.subscribe(() => {
    events += 1;
    if (events === 10) process.exit(0);
  });
}
const [first] = connections;
if (!first) throw new Error('no URI given');
const d = await first.domainByName('test');
for (;;) {
  await d.suspend();
  await d.resume();
}
