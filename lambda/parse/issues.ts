/**
 * How a refused request is worded: zod's first issue as `path.to.field: rule`, with any value or key the
 * sender chose cut to a short prefix (lambda/errors.ts).
 */
import type * as z from 'zod/mini';
import { clip, ECHO_MAX_CHARS, echo, InvalidRequestError } from '../errors';

/** A dotted field path; a key (which the sender chose, perhaps megabytes long) is cut to a short prefix. */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`;
    } else {
      const name = clip(String(key), ECHO_MAX_CHARS);
      out += out === '' ? name : `.${name}`;
    }
  }
  return out === '' ? 'request' : out;
}

export function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'non-integer number';
  return typeof value;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  int: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'an array',
};

/** Phrases a zod issue as the rule the field breaks. Reads issue fields defensively: their shape varies. */
function ruleOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return `must be ${expected} (got ${typeOf(issue.input)})`;
    }
    case 'too_small': {
      const min = String(issue.minimum);
      if (issue.origin === 'array') return `must have at least ${min} entr${min === '1' ? 'y' : 'ies'}`;
      if (issue.origin === 'string') return `must be at least ${min} characters`;
      return `must be at least ${min}`;
    }
    case 'too_big': {
      const max = String(issue.maximum);
      if (issue.origin === 'array') return `must have at most ${max} entries`;
      if (issue.origin === 'string') return `must be at most ${max} characters`;
      return `must be at most ${max}`;
    }
    case 'invalid_format':
      return issue.format === 'datetime'
        ? 'must be an ISO 8601 date-time with a time zone, e.g. 2024-05-01T12:00:00Z'
        : `must be a valid ${issue.format}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${echo(issue.values[0])} (got ${echo(issue.input)})`
        : `must be one of ${issue.values.map((v) => String(v)).join(', ')} (got ${echo(issue.input)})`;
    case 'invalid_union':
      return 'matches none of the forms it may take';
    default:
      return issue.message;
  }
}

/**
 * The first of zod's issues as an InvalidRequestError: the field's path under `prefix` and the rule it
 * breaks. Unknown fields are named one, with the count of the others.
 */
export function invalidRequestFrom(prefix: string, issues: readonly z.core.$ZodIssue[]): InvalidRequestError {
  const first = issues[0];
  if (first === undefined) {
    return new InvalidRequestError(prefix || 'request', 'is invalid');
  }
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem(s))` : '';
  if (first.code === 'unrecognized_keys') {
    const [key = '?', ...others] = first.keys;
    const named = others.map((k) => clip(k, ECHO_MAX_CHARS));
    const extra =
      others.length === 0
        ? ''
        : others.length <= 3
          ? `, nor ${others.length === 1 ? 'is' : 'are'} ${named.join(', ')}`
          : `, nor are ${others.length} others`;
    return new InvalidRequestError(
      fieldPath(prefix, [...first.path, key]),
      `is not a known field${extra}; unknown fields are refused so a typo cannot change what is terminated${more}`,
    );
  }
  return new InvalidRequestError(fieldPath(prefix, first.path), ruleOf(first) + more);
}
