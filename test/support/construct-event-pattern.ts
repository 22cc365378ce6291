/**
 * A local evaluator of Amazon EventBridge event patterns, for the rule tests.
 *
 * Why this exists: no EventBridge pattern-matching library is available from the npm registry this
 * project uses (`eb-patterns` is not there; `serverless-offline-aws-eventbridge` keeps its matcher
 * internal and needs serverless-offline as a peer). So this implements the documented matching rules
 * for the subset a rule pattern here may use, and THROWS on any other operator, so a pattern that
 * outgrows it fails loudly instead of being judged wrongly:
 *
 * - every field named in the pattern must match; fields the pattern does not name are ignored;
 * - a field's value list matches when the event's value (or, for an array in the event, any of its
 *   elements) equals one of the listed literals (exact, case-sensitive, same JSON type);
 * - a nested object in the pattern matches a nested object in the event (any element of an array of
 *   objects);
 * - content filters: `prefix`, `suffix`, `exists`, `anything-but` (literal or list of literals).
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Does `event` match EventBridge `pattern`? */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern) || Object.keys(pattern).length === 0) {
    throw new Error(`an event pattern must be a non-empty object, got ${JSON.stringify(pattern)}`);
  }
  return matchObject(pattern, event);
}

function matchObject(pattern: Record<string, unknown>, event: unknown): boolean {
  // An array of objects in the event matches when any element does.
  if (Array.isArray(event)) return event.some((element) => matchObject(pattern, element));
  if (!isObject(event)) return false;
  return Object.entries(pattern).every(([key, sub]) => {
    const present = Object.prototype.hasOwnProperty.call(event, key);
    const value = event[key];
    if (Array.isArray(sub)) return matchLeaf(sub, present, value as Json);
    if (isObject(sub)) return present && matchObject(sub, value);
    throw new Error(`pattern field "${key}" must be an array or an object, got ${JSON.stringify(sub)}`);
  });
}

function matchLeaf(matchers: unknown[], present: boolean, value: Json | undefined): boolean {
  if (matchers.length === 0) throw new Error('a pattern value list must not be empty');
  return matchers.some((matcher) => {
    if (isObject(matcher) && 'exists' in matcher) {
      if (Object.keys(matcher).length !== 1 || typeof matcher.exists !== 'boolean') {
        throw new Error(`unsupported exists filter ${JSON.stringify(matcher)}`);
      }
      // EventBridge: "exists" is about leaf values; an object or an absent field does not exist as a leaf.
      const leafExists = present && !isObject(value);
      return matcher.exists === leafExists;
    }
    if (!present || isObject(value)) return false;
    const candidates: Json[] = Array.isArray(value) ? value : [value as Json];
    return candidates.some((candidate) => matchOne(matcher, candidate));
  });
}

function matchOne(matcher: unknown, candidate: Json): boolean {
  if (matcher === null || ['string', 'number', 'boolean'].includes(typeof matcher)) {
    return matcher === candidate;
  }
  if (!isObject(matcher) || Object.keys(matcher).length !== 1) {
    throw new Error(`unsupported matcher ${JSON.stringify(matcher)}`);
  }
  const [op, arg] = Object.entries(matcher)[0]!;
  switch (op) {
    case 'prefix':
      if (typeof arg !== 'string') throw new Error(`unsupported prefix filter ${JSON.stringify(matcher)}`);
      return typeof candidate === 'string' && candidate.startsWith(arg);
    case 'suffix':
      if (typeof arg !== 'string') throw new Error(`unsupported suffix filter ${JSON.stringify(matcher)}`);
      return typeof candidate === 'string' && candidate.endsWith(arg);
    case 'anything-but': {
      const excluded = Array.isArray(arg) ? arg : [arg];
      if (excluded.some((x) => x !== null && typeof x === 'object')) {
        throw new Error(`unsupported anything-but filter ${JSON.stringify(matcher)}`);
      }
      return !excluded.includes(candidate);
    }
    default:
      throw new Error(`unsupported pattern operator "${op}" in ${JSON.stringify(matcher)}`);
  }
}
