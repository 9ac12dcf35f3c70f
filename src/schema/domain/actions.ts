import { z } from 'zod';
import type { Privilege } from '../../auth/privileges.ts';
import { type KeycodeSetName, LibvirtError } from '../../libvirt/index.ts';
import { domainDescription, domainName } from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { describedEnum } from '../core/enum-types.ts';
import { invalidInput } from '../core/errors.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { DeviceScope, fromInput, mutationInput, payloadInput, scopeFor } from '../core/mutation-support.ts';
import { whenLoaded } from '../core/read-fields.ts';
import { DomainNode, DomainRef, domainDefinition, findDomain, onDomainArg } from './domain.ts';
import { act, DomainStateChange, invalidState, reread } from './lifecycle.ts';

builder.objectFields(DomainNode, (t) => ({
  title: t.string({
    description: 'The short title in its definition (virsh desc --title).',
    resolve: (s, _a, ctx) => whenLoaded(domainDefinition(ctx, s), (d) => d.title ?? null),
  }),
}));

const keycodeSetDescriptions: Record<KeycodeSetName, string> = {
  LINUX: 'Linux input event codes (linux/input-event-codes.h), e.g. 28 for Enter.',
  XT: 'IBM XT scan codes.',
  ATSET1: 'AT set 1 scan codes.',
  ATSET2: 'AT set 2 scan codes.',
  ATSET3: 'AT set 3 scan codes.',
  OSX: 'macOS virtual key codes.',
  XT_KBD: 'XT scan codes as the Linux kernel’s xt keyboard driver reads them.',
  USB: 'USB HID usage codes.',
  WIN32: 'Windows virtual-key codes.',
  QNUM: 'QEMU’s key numbers (qnum), as QEMU’s own protocol uses them.',
};

const KeycodeSetEnum = describedEnum(
  'KeycodeSet',
  'How sendKey’s key codes are numbered (virKeycodeSet).',
  keycodeSetDescriptions,
);

/** libvirt's VIR_DOMAIN_SEND_KEY_MAX_KEYS. */
const MAX_KEYS = 16;

const keycodes = z
  // Code 0 is no key in any codeset (KEY_RESERVED in LINUX): pressing it does nothing.
  .array(z.number().int().min(1, 'must be a key code (1–65535)').max(65535, 'must be a key code (1–65535)'))
  .min(1, 'must name at least one key')
  .max(MAX_KEYS, `must name at most ${MAX_KEYS} keys (libvirt's limit)`);

const title = z
  .string()
  .max(1024, 'must be at most 1024 characters')
  .refine((text) => !/[\r\n]/.test(text), 'must be one line (libvirt refuses a newline in a title)')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters XML cannot carry
  .refine((text) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(text), 'must not contain control characters');

/** A privilege on the domain and, for a new name, on that name too: a grant limited to name globs must cover both. */
function onDomainAndNewName(privilege: Privilege) {
  const onDomain = onDomainArg(privilege);
  return async (
    parent: unknown,
    args: Parameters<ReturnType<typeof onDomainArg>>[1] & { newName: string },
    ctx: GatewayContext,
  ) => {
    const scope = await onDomain(parent, args, ctx);
    return { $all: { ...scope, $all: { privilege: { ...scope.privilege, domain: args.newName } } } };
  };
}

builder.mutationFields((t) => {
  const domainArgs = {
    host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
    domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
  };
  const scope = t.arg({
    type: DeviceScope,
    description: 'Where the change applies; omitted: the running domain when it runs, its configuration when not.',
  });
  return {
    resetDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description:
        'Resets the domain like its reset button (virDomainReset): at once, without asking the guest; disks are not flushed.',
      args: payloadInput('ResetDomain', domainArgs),
      resolve: (_r, { input: args }, ctx) =>
        act(ctx, args, ['RUNNING', 'PAUSED'], 'only a running or paused domain can be reset', undefined, (d) =>
          d.reset(),
        ),
    }),
    pmWakeupDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description: 'Wakes a guest that suspended itself to RAM (PMSUSPENDED) (virDomainPMWakeup).',
      args: payloadInput('PmWakeupDomain', domainArgs),
      resolve: (_r, { input: args }, ctx) =>
        act(ctx, args, ['PMSUSPENDED'], 'only a PM-suspended domain can be woken', 'RUNNING', (d) => d.pmWakeup()),
    }),
    renameDomain: t.field({
      authScopes: fromInput(onDomainAndNewName('VM.Config')),
      type: DomainNode,
      description:
        'Gives a shut-off domain a new name (virDomainRename); its UUID stays. Needs VM.Config on both names.',
      args: mutationInput('RenameDomain', {
        ...domainArgs,
        newName: t.arg.string({ required: true, description: 'The new name.', validate: domainName }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const host = hostName(ctx, args.host);
        const s = await findDomain(ctx, host, args.domain);
        const { state } = await s.domain.state();
        if (state !== 'SHUTOFF') invalidState(s, state, 'only a shut-off domain can be renamed');
        const c = await connectionOf(ctx, host);
        const taken = await c.domainByName(args.newName).then(
          () => true,
          (e: unknown) => {
            if (e instanceof LibvirtError && e.codeName === 'NO_DOMAIN') return false;
            throw e;
          },
        );
        if (taken) throw invalidInput('newName', `a domain named ${args.newName} already exists on host ${host}`);
        await s.domain.rename(args.newName);
        return reread(ctx, host, s.domain);
      },
    }),
    sendKey: t.field({
      authScopes: fromInput(onDomainArg('VM.Config')),
      type: DomainNode,
      description:
        'Presses keys on the running domain’s keyboard together, holds them, then releases them (virDomainSendKey), e.g. [29, 56, 111] for Ctrl+Alt+Delete in LINUX codes.',
      args: mutationInput('SendKey', {
        ...domainArgs,
        keycodes: t.arg.intList({
          required: true,
          description: `1 to ${MAX_KEYS} key codes in codeset.`,
          validate: keycodes,
        }),
        codeset: t.arg({
          type: KeycodeSetEnum,
          defaultValue: 'LINUX',
          required: true,
          description: 'How the key codes are numbered. @default LINUX',
        }),
        holdTimeMs: t.arg.int({
          description: 'How long the keys stay pressed, 1 to 60000 milliseconds; libvirt’s default when omitted.',
          validate: z.number().int().min(1, 'must be at least 1 ms').max(60_000, 'must be at most 60000 ms').nullish(),
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const host = hostName(ctx, args.host);
        const s = await findDomain(ctx, host, args.domain);
        const { state } = await s.domain.state();
        if (state !== 'RUNNING') invalidState(s, state, 'keys can be sent to a running domain only');
        await s.domain.sendKey(args.codeset, args.keycodes, args.holdTimeMs ?? 0);
        return reread(ctx, host, s.domain);
      },
    }),
    setDomainDescription: t.field({
      authScopes: fromInput(onDomainArg('VM.Config')),
      type: DomainNode,
      description:
        'Sets the domain’s free-text description (virDomainSetMetadata), live and/or in its configuration; null removes it.',
      args: mutationInput('SetDomainDescription', {
        ...domainArgs,
        description: t.arg.string({
          description: 'At most 4096 characters; null removes it.',
          validate: domainDescription,
        }),
        scope,
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const host = hostName(ctx, args.host);
        const s = await findDomain(ctx, host, args.domain);
        await s.domain.setMetadata(
          'DESCRIPTION',
          args.description ?? null,
          scopeFor(args.scope, await s.domain.isActive()),
        );
        return reread(ctx, host, s.domain);
      },
    }),
    setDomainTitle: t.field({
      authScopes: fromInput(onDomainArg('VM.Config')),
      type: DomainNode,
      description:
        'Sets the domain’s one-line title (virDomainSetMetadata), live and/or in its configuration; null removes it.',
      args: mutationInput('SetDomainTitle', {
        ...domainArgs,
        title: t.arg.string({ description: 'One line, at most 1024 characters; null removes it.', validate: title }),
        scope,
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const host = hostName(ctx, args.host);
        const s = await findDomain(ctx, host, args.domain);
        await s.domain.setMetadata('TITLE', args.title ?? null, scopeFor(args.scope, await s.domain.isActive()));
        return reread(ctx, host, s.domain);
      },
    }),
  };
});
