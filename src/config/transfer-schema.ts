import { z } from 'zod';

const nonEmpty = z.string().min(1, 'must not be empty');

/** An http(s) URL prefix importVolume may fetch from; `privateAddresses` lets it reach private, loopback or link-local addresses. */
const allowedUrl = z.union([
  nonEmpty,
  z.strictObject({ prefix: nonEmpty, privateAddresses: z.boolean().default(false) }),
]);

/** importVolume: where images may come from (README, "Upload, download and import images"). */
export const imagesSchema = z
  .strictObject({
    /** URL prefixes (scheme, host, port and a path prefix); nothing is fetched when empty. */
    allowedUrls: z.array(allowedUrl).default([]),
    /** Redirects followed, each checked like the first URL. */
    maxRedirects: z.number().int().min(0).max(20).default(5),
    /** How long a connection may stay silent (connecting, or between body bytes). */
    timeoutSeconds: z.number().positive('must be positive').max(3600).default(30),
  })
  .prefault({});

/** uploadVolume and downloadVolume. */
export const transfersSchema = z
  .strictObject({
    /** How long a transfer URL stays valid, unused; each is good for one request. */
    ticketSeconds: z.number().positive('must be positive').max(86_400, 'must be at most 86400').default(300),
  })
  .prefault({});

export type ImagesConfig = z.infer<typeof imagesSchema>;
export type TransfersConfig = z.infer<typeof transfersSchema>;
