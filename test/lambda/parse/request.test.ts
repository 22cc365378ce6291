import {
  makeHandler,
  context,
  envelope,
  config,
  NOW,
  DOMAIN,
  parseEvent,
} from '../../support/handler-fixtures';
import { SWFClient } from '@aws-sdk/client-swf';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { LIMITS, REQUEST_DETAILS_MAX } from '../../../lib/contract';
import { DomainNotAllowedError, InvalidRequestError, TooManyExecutionsError } from '../../../lambda/errors';
import { parseRequest } from '../../../lambda/parse/request';
import { captureEmf, jobStateFixture } from '../../support/handler-fixtures';
import { type Env } from '../../../lambda/config';
import { JOB_EVENT_KEY } from '../../../lib/contract';

const swf = mockClient(SWFClient);

beforeEach(() => {
  swf.reset();
});

const ok = { domain: DOMAIN, workflowId: 'wf-1' };
const long = (n: number) => 'a'.repeat(n);

type ErrorClass = typeof InvalidRequestError | typeof DomainNotAllowedError | typeof TooManyExecutionsError;

// [description, event, error class, field the message must name]
const cases: [string, unknown, ErrorClass, RegExp][] = [
  // non-object events
  ['null event', null, InvalidRequestError, /^event: must be a JSON object/],
  ['string event', 'terminate wf-1', InvalidRequestError, /^event: .*got string/],
  ['array event', [ok], InvalidRequestError, /^event: .*got array/],
  ['number event', 42, InvalidRequestError, /^event: .*got number/],
  ['boolean event', true, InvalidRequestError, /^event: .*got boolean/],
  // envelopes
  [
    'wrong detail-type',
    envelope(ok, { 'detail-type': 'Scheduled Event' }),
    InvalidRequestError,
    /^detail-type: must be "SWF Termination Request"/,
  ],
  ['detail-type not a string', envelope(ok, { 'detail-type': 7 }), InvalidRequestError, /^detail-type:/],
  ['envelope without detail', envelope(undefined), InvalidRequestError, /^detail: must be a JSON object/],
  ['envelope with array detail', envelope([ok]), InvalidRequestError, /^detail: .*got array/],
  [
    'envelope with bad time',
    envelope(ok, { time: 'yesterday' }),
    InvalidRequestError,
    /^time: must be an ISO 8601 date-time/,
  ],
  ['envelope without id', envelope(ok, { id: undefined }), InvalidRequestError, /^id: is required/],
  [
    'envelope detail with bad field',
    envelope({ ...ok, dryRun: 'yes' }),
    InvalidRequestError,
    /^detail\.dryRun: must be a boolean/,
  ],
  // domain
  ['missing domain', { workflowId: 'wf-1' }, InvalidRequestError, /^domain: is required/],
  [
    'domain not a string',
    { ...ok, domain: 5 },
    InvalidRequestError,
    /^domain: must be a string \(got number\)/,
  ],
  ['empty domain', { ...ok, domain: '' }, InvalidRequestError, /^domain: must be 1-256 characters/],
  [
    'domain too long',
    { ...ok, domain: long(257) },
    InvalidRequestError,
    /^domain: must be 1-256 characters \(got 257\)/,
  ],
  ['domain with colon', { ...ok, domain: 'a:b' }, InvalidRequestError, /^domain: must not contain/],
  ['domain "arn"', { ...ok, domain: 'arn' }, InvalidRequestError, /^domain: must not be the literal "arn"/],
  [
    'domain not allowed',
    { ...ok, domain: 'payments' },
    DomainNotAllowedError,
    /^domain: "payments" is not one of the allowed domains/,
  ],
  // workflowId / runId
  [
    'workflowId with slash',
    { ...ok, workflowId: 'a/b' },
    InvalidRequestError,
    /^workflowId: must not contain/,
  ],
  [
    'workflowId with pipe',
    { ...ok, workflowId: 'a|b' },
    InvalidRequestError,
    /^workflowId: must not contain/,
  ],
  [
    'workflowId with control char',
    { ...ok, workflowId: 'a\u0007b' },
    InvalidRequestError,
    /^workflowId: must not contain/,
  ],
  [
    'workflowId with C1 control char',
    { ...ok, workflowId: 'a\u0085b' },
    InvalidRequestError,
    /^workflowId: must not contain/,
  ],
  [
    'workflowId too long',
    { ...ok, workflowId: long(257) },
    InvalidRequestError,
    /^workflowId: must be 1-256/,
  ],
  [
    'workflowId an array',
    { ...ok, workflowId: ['a'] },
    InvalidRequestError,
    /^workflowId: must be a string \(got array\)/,
  ],
  [
    'runId too long',
    { ...ok, runId: long(65) },
    InvalidRequestError,
    /^runId: must be 1-64 characters \(got 65\)/,
  ],
  ['runId empty', { ...ok, runId: '' }, InvalidRequestError, /^runId: must be 1-64/],
  [
    'runId without workflowId',
    { domain: DOMAIN, runId: 'r', selector: { tag: 't' } },
    InvalidRequestError,
    /^runId: is only allowed together with workflowId/,
  ],
  // targets
  ['no target', { domain: DOMAIN }, InvalidRequestError, /^workflowId: a target is required/],
  [
    'two targets',
    { ...ok, selector: { tag: 't' } },
    InvalidRequestError,
    /^selector: exactly one of workflowId, executions or selector/,
  ],
  [
    'three targets',
    { ...ok, executions: [{ workflowId: 'x' }], selector: { tag: 't' } },
    InvalidRequestError,
    /exactly one of/,
  ],
  // executions
  [
    'empty executions',
    { domain: DOMAIN, executions: [] },
    InvalidRequestError,
    /^executions: must have at least 1 entry/,
  ],
  [
    'executions not an array',
    { domain: DOMAIN, executions: { workflowId: 'a' } },
    InvalidRequestError,
    /^executions: must be an array/,
  ],
  [
    'execution without workflowId',
    { domain: DOMAIN, executions: [{ runId: 'r' }] },
    InvalidRequestError,
    /^executions\[0\]\.workflowId: is required/,
  ],
  [
    'execution with bad runId',
    { domain: DOMAIN, executions: [{ workflowId: 'a' }, { workflowId: 'b', runId: long(65) }] },
    InvalidRequestError,
    /^executions\[1\]\.runId: must be 1-64/,
  ],
  [
    'execution with unknown field',
    { domain: DOMAIN, executions: [{ workflowId: 'a', runid: 'r' }] },
    InvalidRequestError,
    /^executions\[0\]\.runid: is not a known field/,
  ],
  [
    'duplicate executions',
    {
      domain: DOMAIN,
      executions: [{ workflowId: 'a', runId: 'r' }, { workflowId: 'b' }, { workflowId: 'a', runId: 'r' }],
    },
    InvalidRequestError,
    /^executions\[2\]: duplicates executions\[0\]/,
  ],
  [
    'duplicate runless executions',
    { domain: DOMAIN, executions: [{ workflowId: 'a' }, { workflowId: 'a' }] },
    InvalidRequestError,
    /^executions\[1\]: duplicates/,
  ],
  [
    'execution entry not an object',
    { domain: DOMAIN, executions: ['a'] },
    InvalidRequestError,
    /^executions\[0\]: must be an object/,
  ],
  // selector
  [
    'empty selector',
    { domain: DOMAIN, selector: {} },
    InvalidRequestError,
    /^selector: must give at least one of tag, workflowType, workflowIdPrefix, startedBefore, openLongerThanSeconds or idleLongerThanSeconds/,
  ],
  [
    'selector with only startedAfter',
    { domain: DOMAIN, selector: { startedAfter: '2025-01-01T00:00:00Z' } },
    InvalidRequestError,
    /^selector: must give at least one of/,
  ],
  [
    'selector not an object',
    { domain: DOMAIN, selector: 'all' },
    InvalidRequestError,
    /^selector: must be an object/,
  ],
  [
    'selector unknown field',
    { domain: DOMAIN, selector: { tags: ['t'] } },
    InvalidRequestError,
    /^selector\.tags: is not a known field/,
  ],
  [
    'selector tag with colon',
    { domain: DOMAIN, selector: { tag: 'env:prod' } },
    InvalidRequestError,
    /^selector\.tag: must not contain/,
  ],
  [
    'selector tag too long',
    { domain: DOMAIN, selector: { tag: long(257) } },
    InvalidRequestError,
    /^selector\.tag: must be 1-256/,
  ],
  [
    'workflowType without name',
    { domain: DOMAIN, selector: { workflowType: { version: '1' } } },
    InvalidRequestError,
    /^selector\.workflowType\.name: is required/,
  ],
  [
    'workflowType version too long',
    { domain: DOMAIN, selector: { workflowType: { name: 'n', version: long(65) } } },
    InvalidRequestError,
    /^selector\.workflowType\.version: must be 1-64/,
  ],
  [
    'workflowType version with pipe',
    { domain: DOMAIN, selector: { workflowType: { name: 'n', version: '1|2' } } },
    InvalidRequestError,
    /^selector\.workflowType\.version: must not contain/,
  ],
  [
    'workflowType unknown field',
    { domain: DOMAIN, selector: { workflowType: { name: 'n', Version: '1' } } },
    InvalidRequestError,
    /^selector\.workflowType\.Version: is not a known field/,
  ],
  [
    'startedBefore not a date',
    { domain: DOMAIN, selector: { startedBefore: 'now' } },
    InvalidRequestError,
    /^selector\.startedBefore: must be an ISO 8601 date-time/,
  ],
  [
    'startedBefore without time zone',
    { domain: DOMAIN, selector: { startedBefore: '2025-01-01T00:00:00' } },
    InvalidRequestError,
    /^selector\.startedBefore: must be an ISO 8601 date-time with a time zone/,
  ],
  [
    'startedBefore date only',
    { domain: DOMAIN, selector: { startedBefore: '2025-01-01' } },
    InvalidRequestError,
    /^selector\.startedBefore: must be an ISO 8601/,
  ],
  [
    'startedBefore impossible date',
    { domain: DOMAIN, selector: { startedBefore: '2025-02-30T00:00:00Z' } },
    InvalidRequestError,
    /^selector\.startedBefore: must be an ISO 8601/,
  ],
  [
    'startedBefore a number',
    { domain: DOMAIN, selector: { startedBefore: 1735689600 } },
    InvalidRequestError,
    /^selector\.startedBefore: must be a string/,
  ],
  [
    'startedAfter later than startedBefore',
    {
      domain: DOMAIN,
      selector: { startedAfter: '2025-02-01T00:00:00Z', startedBefore: '2025-01-01T00:00:00Z' },
    },
    InvalidRequestError,
    /^selector\.startedAfter: must not be later than selector\.startedBefore/,
  ],
  // dates before the Unix epoch (SWF would receive a negative number of seconds)
  [
    'startedAfter in year 0',
    { domain: DOMAIN, selector: { tag: 't', startedAfter: '0000-01-01T00:00:00Z' } },
    InvalidRequestError,
    /^selector\.startedAfter: must not be before the Unix epoch, 1970-01-01T00:00:00Z.*got "0000-01-01T00:00:00Z"/,
  ],
  [
    'startedAfter one millisecond before the epoch',
    { domain: DOMAIN, selector: { tag: 't', startedAfter: '1969-12-31T23:59:59.999Z' } },
    InvalidRequestError,
    /^selector\.startedAfter: must not be before the Unix epoch/,
  ],
  [
    'startedAfter before the epoch by its offset',
    { domain: DOMAIN, selector: { tag: 't', startedAfter: '1970-01-01T00:30:00+01:00' } },
    InvalidRequestError,
    /^selector\.startedAfter: must not be before the Unix epoch/,
  ],
  [
    'startedBefore before the epoch',
    { domain: DOMAIN, selector: { startedBefore: '1969-07-20T20:17:00Z' } },
    InvalidRequestError,
    /^selector\.startedBefore: must not be before the Unix epoch/,
  ],
  [
    'startedBefore a fraction of a millisecond before the epoch',
    { domain: DOMAIN, selector: { startedBefore: '1969-12-31T23:59:59.9999Z' } },
    InvalidRequestError,
    /^selector\.startedBefore: must not be before the Unix epoch/,
  ],
  [
    'envelope time before the epoch',
    envelope(ok, { time: '1969-12-31T23:59:59Z' }),
    InvalidRequestError,
    /^time: must not be before the Unix epoch/,
  ],
  [
    'startedAfter later than startedBefore by less than a millisecond',
    {
      domain: DOMAIN,
      selector: { startedAfter: '2025-01-01T00:00:00.0009Z', startedBefore: '2025-01-01T00:00:00.0005Z' },
    },
    InvalidRequestError,
    /^selector\.startedAfter: must not be later than selector\.startedBefore/,
  ],
  // other fields
  [
    'reason too long',
    { ...ok, reason: long(257) },
    InvalidRequestError,
    /^reason: must be at most 256 characters \(got 257\)/,
  ],
  ['reason not a string', { ...ok, reason: { text: 'x' } }, InvalidRequestError, /^reason: must be a string/],
  [
    'details too long',
    { ...ok, details: long(REQUEST_DETAILS_MAX + 1) },
    InvalidRequestError,
    new RegExp(
      `^details: must be at most ${REQUEST_DETAILS_MAX} characters .*got ${REQUEST_DETAILS_MAX + 1}`,
    ),
  ],
  [
    'details at SWF limit (no room for provenance)',
    { ...ok, details: long(LIMITS.detailsMax) },
    InvalidRequestError,
    /^details: must be at most/,
  ],
  [
    'bad childPolicy',
    { ...ok, childPolicy: 'KILL' },
    InvalidRequestError,
    /^childPolicy: must be one of TERMINATE, REQUEST_CANCEL, ABANDON \(got "KILL"\)/,
  ],
  [
    'lower-case childPolicy',
    { ...ok, childPolicy: 'terminate' },
    InvalidRequestError,
    /^childPolicy: must be one of/,
  ],
  [
    'dryRun as string',
    { ...ok, dryRun: 'true' },
    InvalidRequestError,
    /^dryRun: must be a boolean \(true or false\) \(got string\)/,
  ],
  [
    'maxExecutions 0',
    { ...ok, maxExecutions: 0 },
    InvalidRequestError,
    /^maxExecutions: must be an integer from 1 to 1000, the function's ceiling \(MAX_EXECUTIONS\) \(got 0\)/,
  ],
  [
    'maxExecutions 1.5',
    { ...ok, maxExecutions: 1.5 },
    InvalidRequestError,
    /^maxExecutions: must be an integer from 1 to 1000, the function's ceiling \(MAX_EXECUTIONS\) \(got 1.5\)/,
  ],
  [
    'maxExecutions negative',
    { ...ok, maxExecutions: -3 },
    InvalidRequestError,
    /^maxExecutions: must be an integer from 1 to 1000, the function's ceiling \(MAX_EXECUTIONS\) \(got -3\)/,
  ],
  [
    'maxExecutions as string',
    { ...ok, maxExecutions: '10' },
    InvalidRequestError,
    /^maxExecutions: must be an integer from 1 to 1000, the function's ceiling \(MAX_EXECUTIONS\) \(got "10"\)/,
  ],
  [
    'maxExecutions over the ceiling',
    { ...ok, maxExecutions: 1001 },
    InvalidRequestError,
    /^maxExecutions: must be an integer from 1 to 1000, the function's ceiling \(MAX_EXECUTIONS\) \(got 1001\)/,
  ],
  ['unknown top-level field', { ...ok, dryrun: true }, InvalidRequestError, /^dryrun: is not a known field/],
  [
    'unknown top-level fields',
    { ...ok, force: true, all: true },
    InvalidRequestError,
    /^force: is not a known field, nor is all;/,
  ],
  [
    'list over the ceiling',
    { domain: DOMAIN, executions: Array.from({ length: 1001 }, (_, i) => ({ workflowId: `w${i}` })) },
    TooManyExecutionsError,
    /1001 executions, more than its limit of 1000/,
  ],
];

describe('malformed requests are refused before any SWF call', () => {
  test.each(cases)('%s', async (_description, event, errorClass, message) => {
    const { handler } = makeHandler();

    const error = await handler(event, context).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).message).toMatch(message);
    expect(swf.calls()).toHaveLength(0);
  });
});

// -------------------------------------------------------------------------------------------------------
// Property-based tests of the validator (pure: parseRequest / parseEvent).

const cfg = config({ ALLOWED_DOMAINS: 'orders,billing', MAX_EXECUTIONS: '1000' });
// eslint-disable-next-line no-control-regex
const NAME_FORBIDDEN = /[:/|\u0000-\u001f\u007f-\u009f]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const FORBIDDEN = [':', '/', '|', '\u0000', '\u001f', '\u007f', '\u0085', '\u009f'];

const validName = fc
  .string({ minLength: 1, maxLength: 256, unit: 'grapheme' })
  .filter((s) => s.length <= 256 && !NAME_FORBIDDEN.test(s) && s !== 'arn');
const validVersion = validName.filter((s) => s.length <= 64);
const validRunId = fc.string({ minLength: 1, maxLength: 64 }).filter((s) => !CONTROL.test(s));
const isoDate = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

const selectorArb = fc
  .record(
    {
      tag: validName,
      workflowType: fc.record({ name: validName, version: validVersion }, { requiredKeys: ['name'] }),
      startedAfter: isoDate,
      startedBefore: isoDate,
    },
    { requiredKeys: [] },
  )
  .filter((s) => s.tag !== undefined || s.workflowType !== undefined || s.startedBefore !== undefined)
  .map((s) =>
    s.startedAfter !== undefined && s.startedBefore !== undefined && s.startedAfter > s.startedBefore
      ? { ...s, startedAfter: s.startedBefore, startedBefore: s.startedAfter }
      : s,
  );

const targetArb = fc.oneof(
  fc.record({ workflowId: validName, runId: validRunId }, { requiredKeys: ['workflowId'] }),
  fc.record({
    executions: fc.uniqueArray(
      fc.record({ workflowId: validName, runId: validRunId }, { requiredKeys: ['workflowId'] }),
      {
        minLength: 1,
        maxLength: 20,
        selector: (e) => JSON.stringify([e.workflowId, e.runId ?? null]),
      },
    ),
  }),
  fc.record({ selector: selectorArb }),
);

const optionsArb = fc.record(
  {
    reason: fc.string({ maxLength: 256 }),
    details: fc.string({ maxLength: 2000 }),
    childPolicy: fc.constantFrom('TERMINATE', 'REQUEST_CANCEL', 'ABANDON'),
    dryRun: fc.boolean(),
    maxExecutions: fc.integer({ min: 20, max: 1000 }),
  },
  { requiredKeys: [] },
);

const requestArb = fc
  .tuple(fc.constantFrom('orders', 'billing'), targetArb, optionsArb)
  .map(([domain, target, options]) => ({ domain, ...target, ...options }));

describe('validator properties', () => {
  test('every valid request parses, and the parsed request carries exactly what was sent', () => {
    fc.assert(
      fc.property(requestArb, (raw) => {
        const parsed = parseRequest(raw, cfg);
        expect(parsed.domain).toBe(raw.domain);
        expect(parsed.reason).toBe(raw.reason);
        expect(parsed.details).toBe(raw.details);
        expect(parsed.childPolicy).toBe(raw.childPolicy);
        expect(parsed.dryRun).toBe(raw.dryRun);
        expect(parsed.maxExecutions).toBe(raw.maxExecutions);
        const t = parsed.target;
        if ('workflowId' in raw) {
          expect(t).toEqual({
            kind: 'single',
            execution: {
              workflowId: raw.workflowId,
              ...(raw.runId === undefined ? {} : { runId: raw.runId }),
            },
          });
        } else if ('executions' in raw) {
          expect(t).toEqual({ kind: 'list', executions: raw.executions });
        } else {
          expect(t.kind).toBe('selector');
          if (t.kind !== 'selector') return;
          expect(t.selector.tag).toBe(raw.selector.tag);
          expect(t.selector.workflowType).toEqual(raw.selector.workflowType);
          expect(t.selector.startedAfter?.toISOString()).toBe(raw.selector.startedAfter);
          expect(t.selector.startedBefore?.toISOString()).toBe(raw.selector.startedBefore);
        }
      }),
    );
  });

  test('the same request parses the same inside an EventBridge envelope', () => {
    fc.assert(
      fc.property(requestArb, (raw) => {
        const direct = parseEvent(raw, { awsRequestId: 'r' }, cfg, NOW).request;
        const wrapped = parseEvent(envelope(raw), { awsRequestId: 'r' }, cfg, NOW).request;
        expect(wrapped).toEqual(direct);
      }),
    );
  });

  test('a name containing any forbidden character is refused, naming the field', () => {
    const field = fc.constantFrom('workflowId', 'domain', 'tag', 'typeName');
    fc.assert(
      fc.property(
        fc.string({ maxLength: 100 }),
        fc.constantFrom(...FORBIDDEN),
        fc.string({ maxLength: 100 }),
        field,
        (a, bad, b, where) => {
          const name = a + bad + b;
          const raw =
            where === 'workflowId'
              ? { domain: DOMAIN, workflowId: name }
              : where === 'domain'
                ? { domain: name, workflowId: 'w' }
                : where === 'tag'
                  ? { domain: DOMAIN, selector: { tag: name } }
                  : { domain: DOMAIN, selector: { workflowType: { name } } };
          const path = {
            workflowId: 'workflowId',
            domain: 'domain',
            tag: 'selector.tag',
            typeName: 'selector.workflowType.name',
          }[where];
          expect(() => parseRequest(raw, cfg)).toThrow(InvalidRequestError);
          expect(() => parseRequest(raw, cfg)).toThrow(new RegExp(`^${path.replace(/\./g, '\\.')}: `));
        },
      ),
    );
  });

  test('any value longer than its limit is refused with the limit and the length', () => {
    const limited = fc.constantFrom(
      { field: 'workflowId', max: 256 },
      { field: 'runId', max: 64 },
      { field: 'reason', max: 256 },
      { field: 'details', max: REQUEST_DETAILS_MAX },
    );
    fc.assert(
      fc.property(limited, fc.integer({ min: 1, max: 300 }), ({ field, max }, extra) => {
        const value = 'v'.repeat(max + extra);
        const raw = { domain: DOMAIN, workflowId: 'w', [field]: value };
        expect(() => parseRequest(raw, cfg)).toThrow(
          new RegExp(`^${field}: must be .*${max}.*\\(got ${max + extra}\\)`),
        );
      }),
    );
  });

  test('any unknown field is refused, at any level', () => {
    const known = new Set([
      'domain',
      'workflowId',
      'runId',
      'executions',
      'selector',
      'reason',
      'details',
      'childPolicy',
      'dryRun',
      'maxExecutions',
      'tag',
      'workflowType',
      'startedAfter',
      'startedBefore',
      '__proto__',
    ]);
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }).filter((k) => !known.has(k)),
        fc.boolean(),
        (key, inSelector) => {
          const raw = inSelector
            ? { domain: DOMAIN, selector: { tag: 't', [key]: 1 } }
            : { domain: DOMAIN, workflowId: 'w', [key]: 1 };
          expect(() => parseRequest(raw, cfg)).toThrow(/is not a known field/);
        },
      ),
    );
  });

  test('the request time is the end of the unit the event time states, capped at the invocation time', () => {
    // An event time with k fractional digits (k = 0 for EventBridge's "…:00Z") states a unit of 10^-k s:
    // the request was made somewhere in it, so the request time is its last millisecond (the unstated
    // millisecond digits filled with 9s), never later than the invocation time.
    const seconds = fc.integer({
      min: Date.parse('2000-01-01T00:00:00Z') / 1000,
      max: NOW.getTime() / 1000 + 5,
    });
    const fraction = fc.stringMatching(/^[0-9]{0,7}$/);
    fc.assert(
      fc.property(seconds, fraction, (s, f) => {
        const time = new Date(s * 1000).toISOString().slice(0, 19) + (f === '' ? '' : `.${f}`) + 'Z';
        const end = s * 1000 + Number(f.slice(0, 3).padEnd(3, '9'));
        const parsed = parseEvent(
          envelope({ domain: DOMAIN, workflowId: 'w' }, { time }),
          { awsRequestId: 'r' },
          cfg,
          NOW,
        );
        expect(parsed.requestTime.getTime()).toBe(Math.min(end, NOW.getTime()));
      }),
    );
  });

  test("an EventBridge time stated to the second: the request time is that second's last millisecond", () => {
    const at = (time: string, now: Date) =>
      parseEvent(envelope({ domain: DOMAIN, workflowId: 'w' }, { time }), { awsRequestId: 'r' }, cfg, now)
        .requestTime;
    const later = new Date('2026-11-25T10:00:05Z');
    expect(at('2026-11-25T10:00:00Z', later)).toEqual(new Date('2026-11-25T10:00:00.999Z'));
    expect(at('2026-11-25T11:00:00+01:00', later)).toEqual(new Date('2026-11-25T10:00:00.999Z'));
    expect(at('2026-11-25T10:00:00.123Z', later)).toEqual(new Date('2026-11-25T10:00:00.123Z'));
    // Never past the invocation time.
    expect(at('2026-11-25T10:00:00Z', new Date('2026-11-25T10:00:00.250Z'))).toEqual(
      new Date('2026-11-25T10:00:00.250Z'),
    );
    // The provenance keeps the event's time exactly as sent.
    const parsed = parseEvent(
      envelope({ domain: DOMAIN, workflowId: 'w' }, { time: '2026-11-25T10:00:00Z' }),
      { awsRequestId: 'r' },
      cfg,
      later,
    );
    expect(parsed.provenance).toMatchObject({ time: '2026-11-25T10:00:00Z' });
  });

  test("a console request's request time is the invocation time", () => {
    expect(
      parseEvent({ domain: DOMAIN, workflowId: 'w' }, { awsRequestId: 'r' }, cfg, NOW).requestTime,
    ).toEqual(NOW);
  });

  test('selector dates finer than a millisecond: startedAfter rounds up, startedBefore rounds down', () => {
    const seconds = fc.integer({ min: 0, max: Date.parse('2030-01-01T00:00:00Z') / 1000 });
    const fraction = fc.stringMatching(/^[0-9]{1,9}$/);
    fc.assert(
      fc.property(seconds, fraction, fraction, (s, a, b) => {
        const iso = (f: string) => `${new Date(s * 1000).toISOString().slice(0, 19)}.${f}Z`;
        const [lo, hi] = [a.padEnd(9, '0'), b.padEnd(9, '0')].sort();
        const floorMs = (f: string) => s * 1000 + Number(f.slice(0, 3));
        const parsed = parseRequest(
          { domain: DOMAIN, selector: { startedAfter: iso(lo!), startedBefore: iso(hi!) } },
          cfg,
        );
        if (parsed.target.kind !== 'selector') throw new Error('expected a selector');
        const { startedAfter, startedBefore } = parsed.target.selector;
        expect(startedAfter?.getTime()).toBe(floorMs(lo!) + (/[1-9]/.test(lo!.slice(3)) ? 1 : 0));
        expect(startedBefore?.getTime()).toBe(floorMs(hi!));
      }),
    );
    const selectorOf = (selector: object) => {
      const t = parseRequest({ domain: DOMAIN, selector }, cfg).target;
      if (t.kind !== 'selector') throw new Error('expected a selector');
      return t.selector;
    };
    expect(selectorOf({ tag: 't', startedAfter: '2025-01-01T00:00:00.0009Z' }).startedAfter).toEqual(
      new Date('2025-01-01T00:00:00.001Z'),
    );
    expect(selectorOf({ startedBefore: '2025-01-01T00:00:00.0009Z' }).startedBefore).toEqual(
      new Date('2025-01-01T00:00:00.000Z'),
    );
    expect(selectorOf({ startedBefore: '2025-01-01T00:00:00.999999Z' }).startedBefore).toEqual(
      new Date('2025-01-01T00:00:00.999Z'),
    );
    // Equal bounds are never refused, whatever their precision (the window is then empty).
    expect(
      selectorOf({ startedAfter: '2025-01-01T00:00:00.0009Z', startedBefore: '2025-01-01T00:00:00.0009Z' }),
    ).toEqual({
      startedAfter: new Date('2025-01-01T00:00:00.001Z'),
      startedBefore: new Date('2025-01-01T00:00:00.000Z'),
    });
  });

  test('the Unix epoch itself is accepted as a date', () => {
    const t = parseRequest(
      {
        domain: DOMAIN,
        selector: { startedAfter: '1970-01-01T00:00:00Z', startedBefore: '1970-01-01T01:00:00+01:00' },
      },
      cfg,
    ).target;
    expect(t).toEqual({
      kind: 'selector',
      selector: { startedAfter: new Date(0), startedBefore: new Date(0) },
    });
    const parsed = parseEvent(
      envelope({ domain: DOMAIN, workflowId: 'w' }, { time: '1970-01-01T00:00:00Z' }),
      { awsRequestId: 'r' },
      cfg,
      NOW,
    );
    expect(parsed.requestTime).toEqual(new Date(999));
  });
});

describe('refusals name the field and the real rule, and echo at most a short prefix', () => {
  async function refusal(event: unknown, env: Env = {}): Promise<Error> {
    const { handler } = makeHandler({ env });
    const { outcome } = await captureEmf(() => handler(event, context));
    if (!('rejected' in outcome)) throw new Error('expected a refusal');
    expect(swf.calls()).toHaveLength(0);
    return outcome.rejected as Error;
  }

  test('maxExecutions 1e400 (Infinity once parsed) names the real rule, not "non-integer"', async () => {
    const error = await refusal(JSON.parse(`{"domain":"${DOMAIN}","workflowId":"w","maxExecutions":1e400}`));
    expect(error.message).toMatch(/^maxExecutions: must be an integer from 1 to 1000/);
    expect(error.message).not.toMatch(/non-integer/);
  });

  test('maxExecutions 1e16 names the function ceiling, not 2^53', async () => {
    const error = await refusal({ domain: DOMAIN, workflowId: 'w', maxExecutions: 1e16 });
    expect(error.message).toMatch(/from 1 to 1000/);
    expect(error.message).not.toMatch(/9007199254740991/);
  });

  test("a chunk's error names its path once, with the real rule", async () => {
    const event = { [JOB_EVENT_KEY]: { ...jobStateFixture(), version: 1 }, execution: 'x' };
    const error = await refusal(event);
    expect(error.message).toMatch(/^swfTerminatorJob\.version: must be 2 \(got 1\)/);
    expect(error.message).not.toMatch(/swfTerminatorJob\.swfTerminatorJob/);
    expect(error.message).not.toMatch(/Invalid input/);
  });

  test('a 2 MB childPolicy: the message stays short and still names the field and the values allowed', async () => {
    const error = await refusal({ domain: DOMAIN, workflowId: 'w', childPolicy: 'X'.repeat(2_000_000) });
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toMatch(/^childPolicy: must be one of TERMINATE, REQUEST_CANCEL, ABANDON/);
  });

  test('100,000 unknown keys: the message names the first and counts the rest', async () => {
    const event: Record<string, unknown> = { domain: DOMAIN, workflowId: 'w' };
    for (let i = 0; i < 100_000; i++) event[`unknown-${i}`] = i;
    const error = await refusal(event);
    expect(error.message.length).toBeLessThan(300);
    expect(error.message).toMatch(/unknown-0/);
    expect(error.message).toMatch(/nor are 99999 others/);
  });

  test('an unknown key of 1 MB is echoed as a short prefix', async () => {
    const error = await refusal({ domain: DOMAIN, workflowId: 'w', ['k'.repeat(1_000_000)]: 1 });
    expect(error.message.length).toBeLessThan(300);
  });

  test('a detail-type of 1 MB is echoed as a short prefix', async () => {
    const error = await refusal(
      envelope({ domain: DOMAIN, workflowId: 'w' }, { 'detail-type': 'x'.repeat(1e6) }),
    );
    expect(error.message.length).toBeLessThan(300);
  });
});
