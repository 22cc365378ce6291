/**
 * Whether one IAM pattern lies inside another: every action or resource the first can match, the second matches
 * too. The enumeration (lambda/verify/audit-roles.ts) asks it of each action and resource a live statement
 * names, against what the construct grants (lib/role-grants.ts). Pure.
 *
 * IAM's patterns: `*` matches any run of characters, `?` any one; `${*}`, `${?}` and `${$}` are those characters
 * literally; any other `${...}` is a policy variable, which a request fills in (so, in the pattern being
 * judged, it is taken to match anything: the judgement stays on the safe side).
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 */

type Token =
  { readonly kind: 'char'; readonly char: string } | { readonly kind: 'one' } | { readonly kind: 'any' };

const LITERAL = /^\$\{([*?$])\}/;
const VARIABLE = /^\$\{[^}]*\}/;

function tokens(pattern: string, caseless: boolean): Token[] {
  const out: Token[] = [];
  for (let rest = pattern; rest.length > 0;) {
    const literal = LITERAL.exec(rest);
    const variable = literal === null ? VARIABLE.exec(rest) : null;
    if (literal !== null) {
      out.push({ kind: 'char', char: literal[0].charAt(2) });
      rest = rest.slice(literal[0].length);
    } else if (variable !== null) {
      out.push({ kind: 'any' });
      rest = rest.slice(variable[0].length);
    } else {
      const c = rest.charAt(0);
      if (c === '*') out.push({ kind: 'any' });
      else if (c === '?') out.push({ kind: 'one' });
      else out.push({ kind: 'char', char: caseless ? c.toLowerCase() : c });
      rest = rest.slice(1);
    }
  }
  return out;
}

/**
 * True when every string `inner` matches, `outer` matches too. A wildcard of `inner` is inside only a `*` of
 * `outer` (a `?` of `inner` inside a `?` too); its characters inside the same characters or a wildcard.
 * `caseless` for action names, which IAM compares without case; resources are compared as written.
 */
export function patternWithin(inner: string, outer: string, caseless = false): boolean {
  const a = tokens(inner, caseless);
  const b = tokens(outer, caseless);
  const memo = new Map<number, boolean>();
  const within = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    const x = a[i];
    const y = b[j];
    if (y === undefined) result = x === undefined;
    else if (y.kind === 'any') result = within(i, j + 1) || (x !== undefined && within(i + 1, j));
    else if (x === undefined || x.kind === 'any') result = false;
    else if (y.kind === 'one') result = within(i + 1, j + 1);
    else result = x.kind === 'char' && x.char === y.char && within(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return within(0, 0);
}

/** True when `pattern` names more than one thing: a wildcard or a policy variable. */
export function hasWildcard(pattern: string): boolean {
  return tokens(pattern, false).some((t) => t.kind !== 'char');
}
