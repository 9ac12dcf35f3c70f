import type { z } from 'zod';

export interface Issue {
  /** The issue's path joined with ".", as the gateway prints it after the argument name. */
  path: string;
  message: string;
}

/** The first issue, which is the one the gateway reports; fails when the value passes. */
export function firstIssue(schema: z.ZodType, value: unknown): Issue {
  const result = schema.safeParse(value);
  if (result.success) throw new Error(`expected a rejection, got ${String(JSON.stringify(result.data, bigints))}`);
  const [issue] = result.error.issues;
  if (issue === undefined) throw new Error('rejected without an issue');
  return { path: issue.path.map(String).join('.'), message: issue.message };
}

/** The parsed value; fails with the first issue when the value is rejected. */
export function parsed<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const [issue] = result.error.issues;
    throw new Error(`expected success, got ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return result.data;
}

function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}
