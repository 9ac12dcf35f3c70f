import type { IncomingMessage } from 'node:http';
import { PNG } from 'pngjs';
import { takeScreenshot } from '../../libvirt/index.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { hostName } from '../core/hosts.ts';
import { clientMutationId, fromInput, payloadInput } from '../core/mutation-support.ts';
import { DomainNode, DomainRef, type DomainShape, findDomain, onDomainArg } from './domain.ts';

/** What yoga adds to the context: the Fetch request (HTTP) or Node's request (HTTP and graphql-ws). */
interface RequestContext {
  request?: Request;
  req?: IncomingMessage;
}

const ConsoleKind = builder.enumType('ConsoleKind', {
  description: 'What a console WebSocket carries.',
  values: {
    SERIAL: {
      description:
        'A serial or console device: raw bytes both ways (xterm.js’ attach addon). One client at a time: a second one is closed with 4409 CONSOLE_BUSY.',
    },
    VNC: {
      description:
        'The VNC display: the raw RFB stream in binary frames, subprotocol `binary` (websockify’s), so noVNC connects unchanged, offered with security type None (the ticket authorized the client). On a local host libvirt hands the display over; on a remote one the gateway connects to it and answers its VNC password with a one-time password of its own (README, Consoles).',
    },
  } as const,
});

interface TicketShape {
  url: string;
  ticket: string;
  expiresAt: Date;
  kind: 'SERIAL' | 'VNC';
}

const ConsoleTicket = builder.objectRef<TicketShape>('ConsoleTicket').implement({
  description:
    'A single-use pass to one console of one domain, for the identity that asked. Open a WebSocket to url before expiresAt; the gateway then needs no other credentials (browsers cannot set headers on WebSockets). A WebSocket that does present credentials must present the same identity’s.',
  fields: (t) => ({
    clientMutationId: t.string(clientMutationId),
    url: t.exposeString('url', {
      nullable: false,
      description: 'The WebSocket URL, ticket included (ws:// or wss://, as the request came in).',
    }),
    ticket: t.exposeString('ticket', { nullable: false, description: 'The ticket alone, for ?ticket= on /console.' }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: false,
      description: 'When the ticket stops opening consoles (consoles.ticketSeconds after issue, 30 s by default).',
      resolve: (t) => t.expiresAt,
    }),
    kind: t.field({
      type: ConsoleKind,
      nullable: false,
      description: 'What the WebSocket will carry.',
      resolve: (t) => t.kind,
    }),
  }),
});

/** ws(s)://host/console?ticket=… from the request that asked, or the bare path when there was none (in-process). */
function consoleUrl(ctx: GatewayContext & RequestContext, path: string, ticket: string): string {
  const query = `${path}?ticket=${encodeURIComponent(ticket)}`;
  if (ctx.request?.url) {
    const url = new URL(query, ctx.request.url);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }
  const req = ctx.req;
  if (req?.headers.host) {
    const secure = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
    return `${secure ? 'wss' : 'ws'}://${req.headers.host}${query}`;
  }
  return query;
}

builder.mutationFields((t) => ({
  openConsole: t.field({
    authScopes: fromInput(onDomainArg('VM.Console')),
    type: ConsoleTicket,
    description:
      'A ticket for a WebSocket to a running domain’s serial console or VNC display (README, Consoles). Needs VM.Console on the domain.',
    args: payloadInput('OpenConsole', {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
      kind: t.arg({ type: ConsoleKind, required: true, description: 'The serial console or the VNC display.' }),
      device: t.arg.string({
        description:
          'SERIAL: the device alias (serial0, console1…), the first console when omitted. VNC: the index of the graphics device (0 when omitted).',
      }),
    }),
    resolve: async (_r, { input: args }, context) => {
      const ctx = context as GatewayContext & RequestContext;
      if (!ctx.consoles) throw gatewayError('UNSUPPORTED', 'this gateway serves no consoles');
      if (args.device != null) {
        const ok = args.kind === 'VNC' ? /^\d{1,2}$/.test(args.device) : /^[A-Za-z0-9_-]{1,64}$/.test(args.device);
        if (!ok)
          throw invalidInput('device', args.kind === 'VNC' ? 'must be a display index' : 'must be a device alias');
      }
      const host = hostName(ctx, args.host);
      const found = await findDomain(ctx, host, args.domain);
      if (!(await found.domain.isActive())) throw gatewayError('INVALID_STATE', 'the domain is not running');
      const { ticket, expiresAt } = await ctx.consoles.tickets.issue({
        identityKey: ctx.identity.key,
        identityName: ctx.identity.name,
        identityKind: ctx.identity.kind,
        ...(ctx.identity.expiresAt === undefined ? {} : { identityExpiresAt: ctx.identity.expiresAt }),
        host,
        domainUuid: found.domain.uuid,
        domainName: found.domain.name,
        kind: args.kind,
        device: args.device ?? null,
        source: ctx.req?.socket?.remoteAddress ?? null,
      });
      return { url: consoleUrl(ctx, ctx.consoles.path, ticket), ticket, expiresAt, kind: args.kind };
    },
  }),
}));

/** PNG bytes of a screenshot: passed through when libvirt already made one, else re-encoded from PPM (P6, 8 bit). */
export function toPng(mime: string, data: Buffer): Buffer {
  if (mime === 'image/png') {
    PNG.sync.read(data); // throws on anything that is not a PNG
    return data;
  }
  const header = /^P6\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s/.exec(
    data.subarray(0, 256).toString('latin1'),
  );
  if (!header)
    throw gatewayError('UNSUPPORTED', `the hypervisor returned a ${mime} screenshot the gateway cannot read`);
  const [width, height, max] = [Number(header[1]), Number(header[2]), Number(header[3])];
  const pixels = data.subarray(header[0].length);
  if (max !== 255 || pixels.length < width * height * 3) {
    throw gatewayError('UNSUPPORTED', 'the hypervisor returned a truncated or 16-bit PPM screenshot');
  }
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    png.data[i * 4] = pixels[i * 3] as number;
    png.data[i * 4 + 1] = pixels[i * 3 + 1] as number;
    png.data[i * 4 + 2] = pixels[i * 3 + 2] as number;
    png.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(png);
}

builder.objectFields(DomainNode, (t) => ({
  screenshot: t.string({
    authScopes: (s: DomainShape) => ({ privilege: { privilege: 'VM.Console', host: s.host, domain: s.domain.name } }),
    description:
      'A PNG of the display, base64-encoded (virDomainScreenshot); null when the domain is not running. Needs VM.Console on the domain.',
    args: { screen: t.arg.int({ defaultValue: 0, required: true, description: 'The display head. @default 0' }) },
    resolve: async (s, args) => {
      if (args.screen < 0) throw invalidInput('screen', 'must not be negative');
      if (!(await s.domain.isActive())) return null;
      const shot = await takeScreenshot(s.domain, args.screen);
      return toPng(shot.mime, shot.data).toString('base64');
    },
  }),
}));
