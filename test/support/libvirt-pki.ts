import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './run-command.ts';

const RSA = ['-newkey', 'rsa:2048', '-nodes'];

/**
 * A CA made by openssl in `dir` (ca.key, cacert.pem), with certificates that libvirt's own
 * checks accept: CA:FALSE, digitalSignature and keyEncipherment, and the extended key usage
 * of their side.
 */
export async function makeCa(dir: string, name: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await runCommand('openssl', [
    'req',
    '-x509',
    ...RSA,
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'cacert.pem'),
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

/** `<dir>/<side>cert.pem` and `<dir>/<side>key.pem` signed by the CA in `caDir`. */
export async function makeLeaf(caDir: string, dir: string, side: 'server' | 'client', subjectAltName: string) {
  await mkdir(dir, { recursive: true });
  const csr = join(dir, `${side}.csr`);
  const ext = join(dir, `${side}.ext`);
  await runCommand('openssl', [
    'req',
    ...RSA,
    '-keyout',
    join(dir, `${side}key.pem`),
    '-out',
    csr,
    '-subj',
    `/CN=${side}`,
  ]);
  await writeFile(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${side === 'server' ? 'serverAuth' : 'clientAuth'}`,
      `subjectAltName=${subjectAltName}`,
      '',
    ].join('\n'),
  );
  // A random serial each: no ca.srl shared by certificates signed in parallel.
  const serial = `0x${[...crypto.getRandomValues(new Uint8Array(8))].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  await runCommand('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(caDir, 'cacert.pem'),
    '-CAkey',
    join(caDir, 'ca.key'),
    '-set_serial',
    serial,
    '-out',
    join(dir, `${side}cert.pem`),
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
}

/** A libvirt client pkipath directory: cacert.pem (the CA it trusts), clientcert.pem, clientkey.pem. */
export async function makePkiPath(dir: string, trustedCaDir: string, clientDir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await copyFile(join(trustedCaDir, 'cacert.pem'), join(dir, 'cacert.pem'));
  await copyFile(join(clientDir, 'clientcert.pem'), join(dir, 'clientcert.pem'));
  await copyFile(join(clientDir, 'clientkey.pem'), join(dir, 'clientkey.pem'));
}
