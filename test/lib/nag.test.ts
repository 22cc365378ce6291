import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EXAMPLE_DOMAINS, parseDomains, SwfTerminatorExampleStack } from '../../bin/example-stack';

/** The example app's stack, as bin/app.ts builds it with no `-c domains`. */
function exampleStack(app: App = new App()) {
  return new SwfTerminatorExampleStack(app, 'SwfTerminatorExampleStack', {
    domains: parseDomains(undefined),
  });
}

describe('cdk-nag AwsSolutionsChecks on the example stack', () => {
  test('reports no unacknowledged error or warning', () => {
    // GIVEN the example stack
    const stack = exampleStack();
    // WHEN the AwsSolutions pack checks it
    const report = new AwsSolutionsChecks().validateScope(stack);
    // THEN nothing is reported, at any severity
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
    // and nothing reached the stack's annotations either
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    expect(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
  });

  test('passes as a validation plugin of the app: synth completes', () => {
    // GIVEN the pack registered the way an app registers it
    const app = new App();
    exampleStack(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // WHEN / THEN
    expect(() => app.synth()).not.toThrow();
  });

  test('would report a finding if there were one (the pack really runs on this stack)', () => {
    // GIVEN the example stack plus a queue with none of the DLQ's protections
    const stack = exampleStack();
    new sqs.Queue(stack, 'UnprotectedQueue', { enforceSSL: false });
    // WHEN
    const report = new AwsSolutionsChecks().validateScope(stack);
    // THEN the new queue, and only it, is reported
    const rules = report.violations.map((v) => v.ruleName).sort();
    expect(rules).toEqual(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']);
    for (const v of report.violations) {
      expect(v.violatingResources.map((r) => r.constructPath)).toEqual([
        'SwfTerminatorExampleStack/UnprotectedQueue/Resource',
      ]);
    }
  });

  test('the acknowledgements are exactly these, each narrowed to its resource and with a reason', () => {
    // GIVEN
    const stack = exampleStack();
    // WHEN every acknowledgement in the tree is collected
    const acks = stack.node.findAll().flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
            path: c.node.path.replace('SwfTerminatorExampleStack/Terminator/', ''),
            id: id.replace(/^annotation::/i, ''),
            reason,
          })),
        ),
    );
    // THEN: the DLQ is itself a DLQ; each role's wildcards are named exactly; the state machine's history is
    // its log, and it has no X-Ray
    const name = String(
      (
        stack.node.findChild('Terminator').node.findChild('Jobs').node.findChild('Resource').node
          .defaultChild as { stateMachineName?: string }
      ).stateMachineName,
    );
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${name}:*`;
    expect(acks.map(({ path, id }) => [path, id])).toEqual([
      ['DeadLetterQueue', 'AwsSolutions-SQS3'],
      ['Role', `AwsSolutions-IAM5[Resource::${executions}]`],
      ['Jobs/Resource', 'AwsSolutions-SF1'],
      ['Jobs/Resource', 'AwsSolutions-SF2'],
      [
        'Jobs/Resource/Role',
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<TerminatorHandler[0-9A-F]{8}\.Arn>:\*\]$/),
      ],
      ['ControlRole', `AwsSolutions-IAM5[Resource::${executions}]`],
      // The verifier reads whichever managed policy is attached to a checked role, and each function's versions'
      // and aliases' policies.
      ['Verifier/Role', 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::aws:policy/*]'],
      ['Verifier/Role', 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:policy/*]'],
      [
        'Verifier/Role',
        expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<TerminatorHandler[0-9A-F]{8}\.Arn>:\*\]$/),
      ],
      [
        'Verifier/Role',
        expect.stringMatching(
          /^AwsSolutions-IAM5\[Resource::<TerminatorControlHandler[0-9A-F]{8}\.Arn>:\*\]$/,
        ),
      ],
    ]);
    for (const ack of acks) expect(ack.reason.length).toBeGreaterThan(40);
    expect(acks[0]!.reason).toMatch(/itself the dead-letter queue of the rules/);
  });

  test('without its acknowledgement the dead-letter queue is reported for SQS3 only', () => {
    // GIVEN a stack whose DLQ acknowledgement is ignored: check the DLQ's CfnQueue in a tree where the
    // metadata was stripped
    const stack = exampleStack();
    const dlq = stack.node.findChild('Terminator').node.findChild('DeadLetterQueue');
    (dlq.node as unknown as { _metadata: unknown[] })._metadata = [];
    // WHEN
    const report = new AwsSolutionsChecks().validateScope(stack);
    // THEN
    expect(report.violations.map((v) => v.ruleName)).toEqual(['AwsSolutions-SQS3']);
  });

  test('the example default domains are the documented ones', () => {
    expect(parseDomains(undefined)).toEqual(EXAMPLE_DOMAINS.split(','));
    expect(parseDomains(' orders , ,billing,')).toEqual(['orders', 'billing']);
  });
});
