import { z } from 'zod';

/**
 * The message for a value of the wrong type. GraphQL has checked types already, so in
 * practice this reads "is required" for a field left out of a hand-built object.
 */
export function mustBe(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * GraphQL passes an explicit `null` for a nullable input field the client set to null;
 * drop those keys so `.optional()` and `.default()` treat them as absent.
 */
export function withoutNulls<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (value) => (isRecord(value) ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null)) : value),
    schema,
  );
}

/** A check that adds the reason `problem` finds, if any. */
export function reasonCheck(problem: (value: string) => string | undefined) {
  return (value: string, ctx: z.RefinementCtx<string>): void => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: value });
  };
}

/** Runs a cross-field rule only when every field on its own is valid. */
export const whenFieldsValid = { when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0 };

/** `z.object` with a readable message when the value is not an object at all. */
export function inputObject<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.object(shape, { error: mustBe('an input object') });
}
