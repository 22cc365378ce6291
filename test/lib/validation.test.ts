import { Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { PolicyAction, PolicyTrigger, SwfTerminator, type SwfTerminatorProps } from '../../lib';
import { testApp } from '../support/construct-helpers';
import { handlerEnvironment } from '../support/policy-helpers';

/** Builds a terminator in a fresh stack (synth-time validation happens in the constructor). */
function build(props: Partial<SwfTerminatorProps>): Stack {
  const stack = new Stack(testApp(), 'TestStack');
  new SwfTerminator(stack, 'Terminator', { domains: ['orders'], ...props });
  return stack;
}

describe('domains', () => {
  test('an empty list is refused', () => {
    // GIVEN / WHEN / THEN
    expect(() => build({ domains: [] })).toThrow(/domains is empty; give at least one SWF domain name/);
  });

  test.each([
    [
      'too long',
      'x'.repeat(257),
      /domains\[0\] "x{257}" is not a valid SWF domain name: it must be 1-256 characters \(got 257\)/,
    ],
    [
      'empty string',
      '',
      /domains\[0\] "" is not a valid SWF domain name: it must be 1-256 characters \(got 0\)/,
    ],
    [
      'a colon',
      'ord:ers',
      /domains\[0\] "ord:ers" is not a valid SWF domain name: it must not contain ":", "\/", "\|" or control characters/,
    ],
    ['a slash', 'ord/ers', /domains\[0\] "ord\/ers" is not a valid SWF domain name: it must not contain ":"/],
    ['a pipe', 'ord|ers', /domains\[0\] "ord\|ers" is not a valid SWF domain name: it must not contain ":"/],
    [
      'a control character',
      'ord\u0007ers',
      /domains\[0\] "ord\\u0007ers" is not a valid SWF domain name: it must not contain .*control characters/,
    ],
    [
      'a DEL character',
      'ord\u007fers',
      /domains\[0\] "ord\u007fers" is not a valid SWF domain name: it must not contain .*control characters/,
    ],
    [
      'the literal arn',
      'arn',
      /domains\[0\] "arn" is not a valid SWF domain name: it must not be the literal "arn"/,
    ],
  ])('a name with %s is refused, naming the value and the rule', (_kind, bad, message) => {
    // GIVEN / WHEN / THEN
    expect(() => build({ domains: [bad] })).toThrow(message);
  });

  test.each([
    ['a comma', 'x,payments'],
    ['leading whitespace', ' orders'],
    ['trailing whitespace', 'orders '],
  ])('a name with %s is refused: the handler would read a different allowlist', (_kind, bad) => {
    // GIVEN / WHEN / THEN
    expect(() => build({ domains: ['billing', bad] })).toThrow(
      /domains\[1\] .* cannot be passed to the handler: it must not contain "," or start or end with whitespace/,
    );
  });

  test('the bad name is reported by its position', () => {
    // GIVEN / WHEN / THEN
    expect(() => build({ domains: ['orders', 'billing', 'a|b'] })).toThrow(/domains\[2\] "a\|b"/);
  });

  test('a name of exactly 256 characters is accepted', () => {
    // GIVEN / WHEN / THEN
    expect(() => build({ domains: ['x'.repeat(256)] })).not.toThrow();
  });

  test('a duplicate is refused', () => {
    // GIVEN / WHEN / THEN
    expect(() => build({ domains: ['orders', 'billing', 'orders'] })).toThrow(
      /domains\[2\] "orders" is a duplicate; each domain must be listed once/,
    );
  });

  test('an unresolved token passes validation and reaches the rule', () => {
    // GIVEN a domain known only at deploy time
    const lazy = Lazy.string({ produce: () => 'late-domain' });
    // WHEN
    const stack = build({ domains: ['orders', lazy] });
    // THEN
    expect(Token.isUnresolved(lazy)).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { domain: ['orders', 'late-domain'] } },
    });
  });
});

describe('request source and detail-type', () => {
  test.each(['aws.swf', 'aws.events', 'AWS.custom'])('requestSource %p is refused', (source) => {
    // GIVEN / WHEN / THEN
    expect(() => build({ requestSource: source })).toThrow(
      new RegExp(
        `requestSource "${source.replace('.', '\\.')}" must not start with "aws\\." \\(reserved for events from AWS services\\)`,
      ),
    );
  });

  test('an empty requestSource is refused', () => {
    expect(() => build({ requestSource: '' })).toThrow(/requestSource "" must be 1-256 characters \(got 0\)/);
  });

  test('a requestDetailType over 128 characters is refused', () => {
    expect(() => build({ requestDetailType: 'd'.repeat(129) })).toThrow(
      /requestDetailType "d{129}" must be 1-128 characters \(got 129\)/,
    );
  });

  test('a source that merely contains "aws." is accepted', () => {
    expect(() => build({ requestSource: 'com.example.aws.ops' })).not.toThrow();
  });

  test('unresolved source and detail-type pass', () => {
    expect(() =>
      build({
        requestSource: Lazy.string({ produce: () => 'aws.late' }),
        requestDetailType: Lazy.string({ produce: () => 'x' }),
      }),
    ).not.toThrow();
  });
});

describe('conflicting props', () => {
  test('eventBus and eventBusName together are refused', () => {
    // GIVEN an existing bus and a name for a new one
    const stack = new Stack(testApp(), 'TestStack');
    const bus = events.EventBus.fromEventBusName(stack, 'Existing', 'ops-bus');
    // WHEN / THEN
    expect(
      () =>
        new SwfTerminator(stack, 'Terminator', {
          domains: ['orders'],
          eventBus: bus,
          eventBusName: 'requests',
        }),
    ).toThrow(/eventBus and eventBusName were both given.*not both/);
  });
});

describe('numbers and durations', () => {
  test.each([
    ['retryAttempts', { retryAttempts: -1 }, /retryAttempts -1 must be an integer between 0 and 185/],
    ['retryAttempts', { retryAttempts: 186 }, /retryAttempts 186 must be an integer between 0 and 185/],
    ['retryAttempts', { retryAttempts: 1.5 }, /retryAttempts 1.5 must be an integer between 0 and 185/],
    [
      'maxEventAge',
      { maxEventAge: Duration.seconds(59) },
      /maxEventAge 59 seconds must be between 1 minute and 1 day/,
    ],
    [
      'maxEventAge',
      { maxEventAge: Duration.hours(25) },
      /maxEventAge 1 day 1 hour must be between 1 minute and 1 day/,
    ],
    [
      'maxExecutionsPerRequest',
      { maxExecutionsPerRequest: 0 },
      /maxExecutionsPerRequest 0 must be an integer between 1 and 100000/,
    ],
    [
      'maxExecutionsPerRequest',
      { maxExecutionsPerRequest: 2.5 },
      /maxExecutionsPerRequest 2.5 must be an integer between 1 and 100000/,
    ],
    [
      'maxExecutionsPerRequest',
      { maxExecutionsPerRequest: 100_001 },
      /maxExecutionsPerRequest 100001 must be an integer between 1 and 100000/,
    ],
    [
      'timeout',
      { timeout: Duration.minutes(16) },
      /timeout 16 minutes must be between 1 minute and 15 minutes/,
    ],
    [
      'timeout',
      { timeout: Duration.seconds(59) },
      /timeout 59 seconds must be between 1 minute and 15 minutes/,
    ],
    ['memorySize', { memorySize: 64 }, /memorySize 64 must be an integer between 128 and 10240/],
    ['memorySize', { memorySize: 10241 }, /memorySize 10241 must be an integer between 128 and 10240/],
    [
      'reservedConcurrentExecutions',
      { reservedConcurrentExecutions: -1 },
      /reservedConcurrentExecutions -1 must be an integer >= 1 \(it is also the number of shares the terminate rate is divided into\)/,
    ],
    [
      'reservedConcurrentExecutions',
      { reservedConcurrentExecutions: 1.5 },
      /reservedConcurrentExecutions 1.5 must be an integer >= 1/,
    ],
  ] as [string, Partial<SwfTerminatorProps>, RegExp][])(
    '%s out of range is refused: %j',
    (_prop, props, message) => {
      // GIVEN / WHEN / THEN
      expect(() => build(props)).toThrow(message);
    },
  );

  test.each([
    ['retryAttempts', { retryAttempts: 0 }],
    ['retryAttempts', { retryAttempts: 185 }],
    ['maxEventAge', { maxEventAge: Duration.seconds(60) }],
    ['maxEventAge', { maxEventAge: Duration.hours(24) }],
    ['maxExecutionsPerRequest', { maxExecutionsPerRequest: 1 }],
    ['timeout', { timeout: Duration.minutes(15) }],
    ['timeout', { timeout: Duration.minutes(1) }],
  ] as [string, Partial<SwfTerminatorProps>][])('%s at its bound is accepted: %j', (_prop, props) => {
    expect(() => build(props)).not.toThrow();
  });

  test('unresolved numbers and durations pass', () => {
    // GIVEN values known only at deploy time
    const n = Lazy.number({ produce: () => 5 });
    // WHEN / THEN
    expect(() =>
      build({
        retryAttempts: n,
        maxExecutionsPerRequest: Lazy.number({ produce: () => 50 }),
        maxEventAge: Duration.seconds(Lazy.number({ produce: () => 120 })),
      }),
    ).not.toThrow();
  });
});

describe('pacing and continuations', () => {
  test.each([
    [0, '0'],
    [-5, '-5'],
    [60.5, '60.5'],
    [61, '61'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
  ])("terminateRatePerSecond %p is refused, naming the value, the rule and SWF's refill", (rate, shown) => {
    // GIVEN / WHEN / THEN
    expect(() => build({ terminateRatePerSecond: rate })).toThrow(
      new RegExp(
        `terminateRatePerSecond ${shown} must be a number > 0 and <= 60 \\(SWF refills TerminateWorkflowExecution ` +
          "at 60 per second per account, a bucket the account's own deciders and workers share\\)",
      ),
    );
  });

  test.each([0.5, 1, 12.5, 60])('terminateRatePerSecond %p is accepted', (rate) => {
    expect(() => build({ terminateRatePerSecond: rate })).not.toThrow();
  });

  test.each([
    [
      0,
      /terminateBurst 0 must be an integer between 1 and 2000 \(SWF's per-account burst for TerminateWorkflowExecution is 2000\)/,
    ],
    [2001, /terminateBurst 2001 must be an integer between 1 and 2000/],
    [10.5, /terminateBurst 10.5 must be an integer between 1 and 2000/],
  ])('terminateBurst %p is refused', (burst, message) => {
    expect(() => build({ terminateBurst: burst })).toThrow(message);
  });

  test.each([1, 2000])('terminateBurst %p is accepted', (burst) => {
    expect(() => build({ terminateBurst: burst })).not.toThrow();
  });

  test('reservedConcurrentExecutions 0 is refused: it would stop the function from running', () => {
    expect(() => build({ reservedConcurrentExecutions: 0 })).toThrow(
      /reservedConcurrentExecutions 0 would stop the function from ever running \(Lambda throttles every invocation\); it must be an integer >= 1/,
    );
  });

  test('a burst smaller than the number of rate shares is refused: each share needs a token', () => {
    expect(() => build({ reservedConcurrentExecutions: 5, terminateBurst: 4 })).toThrow(
      /terminateBurst 4 is less than reservedConcurrentExecutions 5: each of the 5 invocations that may run at once gets terminateBurst \/ reservedConcurrentExecutions tokens and needs at least one, so terminateBurst must be >= 5/,
    );
  });

  test('a burst equal to the number of rate shares is accepted', () => {
    expect(() => build({ reservedConcurrentExecutions: 5, terminateBurst: 5 })).not.toThrow();
  });

  test('the default burst (100) with more shares than that is refused', () => {
    expect(() => build({ reservedConcurrentExecutions: 101 })).toThrow(
      /terminateBurst 100 is less than reservedConcurrentExecutions 101/,
    );
  });

  test('unresolved pacing numbers pass validation', () => {
    expect(() =>
      build({
        terminateRatePerSecond: Lazy.number({ produce: () => 500 }),
        terminateBurst: Lazy.number({ produce: () => 1 }),
        reservedConcurrentExecutions: Lazy.number({ produce: () => 10 }),
      }),
    ).not.toThrow();
  });

  test('an unresolved burst is not compared with the shares, nor unresolved shares with the burst', () => {
    expect(() =>
      build({ reservedConcurrentExecutions: 10, terminateBurst: Lazy.number({ produce: () => 1 }) }),
    ).not.toThrow();
    expect(() =>
      build({ reservedConcurrentExecutions: Lazy.number({ produce: () => 10 }), terminateBurst: 1 }),
    ).not.toThrow();
  });
});

describe('a request that cannot finish', () => {
  const CANNOT_FINISH = /a request of maxExecutionsPerRequest \d+ executions cannot finish/;

  test('the defaults raise no warning', () => {
    // GIVEN / WHEN
    const stack = build({});
    // THEN
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cannot finish'))).toEqual(
      [],
    );
  });

  test('the largest request at the default pace and timeout raises no warning', () => {
    const stack = build({ maxExecutionsPerRequest: 100_000 });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cannot finish'))).toEqual(
      [],
    );
  });

  test('is a warning naming the numbers when even a job cannot get through it', () => {
    // GIVEN 100,000 executions at 0.1/s shared by 2: 2,000,000 s, more than a job's 1000 chunks of 60 s
    const stack = build({
      maxExecutionsPerRequest: 100_000,
      terminateRatePerSecond: 0.1,
      terminateBurst: 20,
      reservedConcurrentExecutions: 2,
    });
    // WHEN
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cannot finish'));
    // THEN
    expect(warnings).toHaveLength(1);
    const text = JSON.stringify(warnings[0]!.entry.data);
    expect(text).toMatch(CANNOT_FINISH);
    expect(text).toMatch(/maxExecutionsPerRequest 100000/);
    expect(text).toMatch(/at 0.1\/2 terminations per second per invocation/);
    expect(text).toMatch(/it takes about 2000000 s, more than the 60000 s \(1000 chunks\) a job may run/);
  });

  test('just inside what a job may run: no warning', () => {
    // 60,000 s x 1 per second = 60,000 executions
    const stack = build({ maxExecutionsPerRequest: 60_000, terminateRatePerSecond: 1, terminateBurst: 1 });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('cannot finish'))).toEqual(
      [],
    );
  });
});

describe('other checks', () => {
  test('an unknown childPolicy (from untyped callers) is refused', () => {
    expect(() => build({ childPolicy: 'KILL' } as unknown as Partial<SwfTerminatorProps>)).toThrow(
      /childPolicy "KILL" is not a child policy; it must be one of TERMINATE, REQUEST_CANCEL, ABANDON/,
    );
  });

  test("a rule pattern over EventBridge's 4096-character limit is refused", () => {
    // GIVEN 20 domains of 250 characters
    const domains = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(248)}`);
    // WHEN / THEN
    expect(() => build({ domains })).toThrow(
      /the rule's event pattern is \d+ characters, over EventBridge's limit of 4096; choose fewer or shorter domains/,
    );
  });
});

describe("the handler's environment fits Lambda's 4 KB", () => {
  const domainNamed = (i: number) => `${String(i).padStart(2, '0')}-${'d'.repeat(250)}`;
  const hourly = () => PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1)));

  test('GIVEN 15 domains of 253 characters WHEN synthesized THEN synth fails, naming the size and the limit', () => {
    // GIVEN ALLOWED_DOMAINS alone near 3.8 KB
    const stack = build({ domains: Array.from({ length: 15 }, (_, i) => domainNamed(i)) });

    // THEN
    expect(() => Template.fromStack(stack)).toThrow(
      /SwfTerminator: the handler's environment would be about \d+ bytes, over Lambda's 4096/,
    );
  });

  test('GIVEN 200 policies WHEN synthesized THEN synth fails: each adds its digest', () => {
    const stack = new Stack(testApp(), 'ManyPolicies');
    const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders'] });
    for (let i = 0; i < 200; i++) {
      terminator.addPolicy(`Sweep${i}`, {
        domain: 'orders',
        trigger: hourly(),
        match: { tag: `t${i}` },
        action: PolicyAction.terminate(),
      });
    }

    expect(() => Template.fromStack(stack)).toThrow(/over Lambda's 4096: .* 17 bytes per policy/);
  });

  test('GIVEN 4 domains of 253 characters, each with a cancelling and a describing policy WHEN synthesized THEN it fits', () => {
    const stack = new Stack(testApp(), 'Fits');
    const domains = Array.from({ length: 4 }, (_, i) => domainNamed(i));
    const terminator = new SwfTerminator(stack, 'Terminator', { domains });
    domains.forEach((domain, i) =>
      terminator.addPolicy(`Idle${i}`, {
        domain,
        trigger: hourly(),
        match: { idleLongerThan: Duration.hours(1) },
        action: PolicyAction.requestCancel(),
        dryRun: false,
      }),
    );

    // THEN the three lists (about 3 KB) and the rest fit
    const env = handlerEnvironment(Template.fromStack(stack));
    expect(env.CANCEL_DOMAINS).toBe(domains.join(','));
    expect(env.DESCRIBE_DOMAINS).toBe(domains.join(','));
  });
});

describe("the verifier's environment fits Lambda's 4 KB", () => {
  const addSweeps = (terminator: SwfTerminator, count: number) => {
    for (let i = 0; i < count; i++) {
      terminator.addPolicy(`Sweep${i}`, {
        domain: 'orders',
        trigger: PolicyTrigger.schedule(events.Schedule.rate(Duration.hours(1))),
        match: { tag: `t${i}` },
        action: PolicyAction.terminate(),
      });
    }
  };

  test('GIVEN 20 scheduled policies WHEN synthesized THEN it fits: each rule that may invoke the handler is named', () => {
    const stack = new Stack(testApp(), 'TwentyPolicies');
    addSweeps(new SwfTerminator(stack, 'Terminator', { domains: ['orders'] }), 20);

    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  test('GIVEN 40 scheduled policies WHEN synthesized THEN synth fails, naming the verifier, the size and the way out', () => {
    const stack = new Stack(testApp(), 'FortyPolicies');
    addSweeps(new SwfTerminator(stack, 'Terminator', { domains: ['orders'] }), 40);

    expect(() => Template.fromStack(stack)).toThrow(
      /SwfTerminator: the verifier's environment would be about \d+ bytes, over Lambda's 4096: .*fewer policies per terminator/,
    );
  });
});
