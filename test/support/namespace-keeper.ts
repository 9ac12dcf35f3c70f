import { spawn } from 'node:child_process';

/** prctl(2) syscall numbers; on other architectures the keeper runs without being a subreaper. */
const SYS_PRCTL: Partial<Record<NodeJS.Architecture, number>> = { x64: 157, arm64: 167, ia32: 172 };
const PR_SET_CHILD_SUBREAPER = 36;
const PR_SET_PDEATHSIG = 1;

/**
 * Perl is Essential on Debian, and it can call prctl, which Node cannot. The
 * keeper becomes a child subreaper, runs the command, prints its exit status,
 * then reaps the daemons that the command left behind until none is left. PID 1
 * here reaps only every ~2 s, and libvirt waits for its killed qemu and dnsmasq
 * to vanish (kill -0), so without a prompt reaper every domain destroy takes ~2 s.
 *
 * It also asks for SIGTERM when the process that spawned it dies: it then
 * terminates its children (every orphaned daemon is one), SIGKILLs them after
 * 10 s, and removes the daemon's root once all are gone, so a crashed test run
 * leaves no daemon behind.
 */
const KEEPER_SCRIPT = String.raw`
use strict;
my ($nr, $root) = splice @ARGV, 0, 2;
my $spawner = getppid();
if ($nr > 0) {
  syscall($nr, ${PR_SET_CHILD_SUBREAPER}, 1, 0, 0, 0) == 0 or die "PR_SET_CHILD_SUBREAPER: $!\n";
  syscall($nr, ${PR_SET_PDEATHSIG}, 15, 0, 0, 0) == 0 or die "PR_SET_PDEATHSIG: $!\n";
}
my $orphaned = 0;
sub children {
  my @pids;
  for my $dir (glob '/proc/[0-9]*') {
    open(my $fh, '<', "$dir/stat") or next;
    my $stat = <$fh> // next;
    my $ppid = (split ' ', substr($stat, rindex($stat, ')') + 2))[1];
    push @pids, substr($dir, 6) if $ppid == $$;
  }
  return @pids;
}
$SIG{TERM} = sub { $orphaned = 1 if getppid() != $spawner; kill 'TERM', children(); alarm 10; };
$SIG{ALRM} = sub { kill 'KILL', children(); };
my $child = fork() // die "fork: $!\n";
if ($child == 0) { exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n"; }
$SIG{PIPE} = 'IGNORE';
waitpid($child, 0);
print "status $?\n";
open STDIN, '<', '/dev/null'; open STDOUT, '>', '/dev/null'; open STDERR, '>', '/dev/null';
while (1) { my $pid = wait(); last if $pid == -1 && !$!{EINTR}; }
system('rm', '-rf', '--', $root) if $orphaned;
`;

export interface Keeper {
  pid: number;
  /** Resolves once the command has exited 0; rejects with its stderr otherwise. */
  ready: Promise<void>;
}

/**
 * Runs `prefix… perl KEEPER command…`, where the prefix (unshare, nsenter) execs
 * in place, so the keeper's pid is the spawned pid and it lives in the new
 * namespaces for as long as anything it started does.
 */
export function spawnKeeper(
  prefix: readonly string[],
  command: readonly string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs: number; root: string },
): Keeper {
  const nr = String(SYS_PRCTL[process.arch] ?? 0);
  const [file = 'perl', ...args] = [...prefix, 'perl', '-e', KEEPER_SCRIPT, nr, options.root];
  const child = spawn(file, [...args, ...command], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env,
  });
  if (child.pid === undefined) throw new Error(`cannot spawn ${file}`);
  const ready = new Promise<void>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let open = 2;
    const timer = setTimeout(
      () => reject(new Error(`namespace setup timed out after ${options.timeoutMs} ms: ${stderr.trim()}`)),
      options.timeoutMs,
    );
    const onEnd = () => {
      open -= 1;
      if (open > 0) return;
      clearTimeout(timer);
      const status = /^status (\d+)$/m.exec(stdout)?.[1];
      if (status === '0') resolve();
      else reject(new Error(`namespace setup failed (wait status ${status ?? 'unknown'}): ${stderr.trim()}`));
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.on('end', onEnd);
    child.stderr.on('end', onEnd);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  child.unref();
  return { pid: child.pid, ready };
}
