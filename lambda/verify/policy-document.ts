/**
 * Reads an IAM policy document (identity, trust or resource-based) into its statements, each with its
 * position, as the audits (lambda/verify/audit-roles.ts, audit-invokers.ts) judge them. Pure.
 *
 * IAM hands documents back URL-encoded (GetRolePolicy, GetPolicyVersion, GetRole); Lambda and EventBridge as
 * plain JSON: the reader takes the JSON text. A document it cannot read is reported as such, never skipped:
 * what cannot be read cannot be proven harmless.
 */

/** A statement's principal: `*`, or each principal type (AWS, Service, Federated, ...) with its values. */
export type Principal = '*' | Readonly<Record<string, readonly string[]>>;

export interface Statement {
  /** Its place in the document's Statement list, from 1 (a lone statement object is 1). */
  readonly position: number;
  readonly sid?: string;
  readonly effect: 'Allow' | 'Deny';
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  readonly resources?: readonly string[];
  readonly notResources?: readonly string[];
  readonly principal?: Principal;
  readonly notPrincipal?: Principal;
  /** Operator → key → values, as written. */
  readonly condition?: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
}

/** A document read: its statements, or why it could not be. */
export type ReadDocument =
  | { readonly ok: true; readonly statements: readonly Statement[] }
  | { readonly ok: false; readonly problem: string };

/** IAM's URL-encoded document text (RFC 3986) as JSON text. */
export function urlDecoded(text: string): string {
  return decodeURIComponent(text);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A string or a list of strings, as IAM's elements are written; undefined when it is neither. */
function strings(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  return undefined;
}

function principalOf(v: unknown): Principal | undefined {
  if (v === '*') return '*';
  if (!isRecord(v)) return undefined;
  const out: Record<string, string[]> = {};
  for (const [type, values] of Object.entries(v)) {
    const list = strings(values);
    if (list === undefined) return undefined;
    out[type] = list;
  }
  return out;
}

function conditionOf(v: unknown): Statement['condition'] | undefined {
  if (!isRecord(v)) return undefined;
  const out: Record<string, Record<string, string[]>> = {};
  for (const [operator, keys] of Object.entries(v)) {
    if (!isRecord(keys)) return undefined;
    out[operator] = {};
    for (const [key, values] of Object.entries(keys)) {
      // Condition values may be booleans or numbers too; they are compared as IAM does, as text.
      const list = (Array.isArray(values) ? values : [values]).map((x) =>
        typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? String(x) : undefined,
      );
      if (list.some((x) => x === undefined)) return undefined;
      out[operator][key] = list as string[];
    }
  }
  return out;
}

/** One statement, or why it cannot be read. */
function statementOf(raw: unknown, position: number): Statement | string {
  if (!isRecord(raw)) return `statement ${position} is not an object`;
  const effect = raw.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') return `statement ${position} has no Effect Allow or Deny`;
  const statement: { -readonly [K in keyof Statement]: Statement[K] } = { position, effect };
  if (typeof raw.Sid === 'string') statement.sid = raw.Sid;
  const lists = [
    ['Action', 'actions'],
    ['NotAction', 'notActions'],
    ['Resource', 'resources'],
    ['NotResource', 'notResources'],
  ] as const;
  for (const [element, field] of lists) {
    if (raw[element] === undefined) continue;
    const list = strings(raw[element]);
    if (list === undefined) return `statement ${position}: ${element} is not a string or a list of strings`;
    statement[field] = list;
  }
  for (const [element, field] of [
    ['Principal', 'principal'],
    ['NotPrincipal', 'notPrincipal'],
  ] as const) {
    if (raw[element] === undefined) continue;
    const principal = principalOf(raw[element]);
    if (principal === undefined) return `statement ${position}: ${element} cannot be read`;
    statement[field] = principal;
  }
  if (raw.Condition !== undefined) {
    const condition = conditionOf(raw.Condition);
    if (condition === undefined) return `statement ${position}: Condition cannot be read`;
    statement.condition = condition;
  }
  return statement;
}

/** Reads a policy document's JSON text. */
export function readDocument(text: string): ReadDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'its text is not JSON' };
  }
  if (!isRecord(json)) return { ok: false, problem: 'it is not a JSON object' };
  const list = Array.isArray(json.Statement) ? (json.Statement as unknown[]) : [json.Statement];
  if (json.Statement === undefined) return { ok: false, problem: 'it has no Statement' };
  const statements: Statement[] = [];
  for (const [i, raw] of list.entries()) {
    const read = statementOf(raw, i + 1);
    if (typeof read === 'string') return { ok: false, problem: read };
    statements.push(read);
  }
  return { ok: true, statements };
}

/** A principal as one line of text, for a report. */
export function describePrincipal(principal: Principal): string {
  if (principal === '*') return '*';
  return Object.entries(principal)
    .map(([type, values]) => `${type}: ${values.join(', ')}`)
    .join('; ');
}

/** A statement's actions as one line of text (its NotAction, when it has one). */
export function actionsText(s: Statement): string {
  return s.actions?.join(', ') ?? `NotAction ${s.notActions?.join(', ') ?? '(none)'}`;
}

/** A statement's principal as one line of text (its NotPrincipal, when it has one). */
export function principalText(s: Statement): string {
  if (s.principal !== undefined) return describePrincipal(s.principal);
  return `NotPrincipal ${s.notPrincipal === undefined ? '(none)' : describePrincipal(s.notPrincipal)}`;
}
