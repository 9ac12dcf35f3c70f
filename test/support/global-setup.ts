import type { ProvidedContext } from 'vitest';
import type { TestProject } from 'vitest/node';
import { libvirtdUnavailableReason, startLibvirtd } from './libvirtd.ts';

/** What tests get from `inject('libvirtd')`. */
export type LibvirtdContext = { uri: string; testUri: string; kvm: boolean; root: string } | { unavailable: string };

declare module 'vitest' {
  export interface ProvidedContext {
    libvirtd: LibvirtdContext;
  }
}

/** Vitest globalSetup: one private libvirtd ("a") for the whole run, or the reason there is none. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const unavailable = await libvirtdUnavailableReason();
  if (unavailable !== undefined) {
    const context: ProvidedContext['libvirtd'] = { unavailable };
    project.provide('libvirtd', context);
    return async () => undefined;
  }
  const daemon = await startLibvirtd({ name: 'a' });
  const context: ProvidedContext['libvirtd'] = {
    uri: daemon.uri,
    testUri: daemon.testUri,
    kvm: daemon.kvm,
    root: daemon.root,
  };
  project.provide('libvirtd', context);
  return () => daemon.stop();
}
