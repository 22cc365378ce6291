/**
 * The job machinery as synthesized: the state machine's definition and role, and the control function.
 * (The definition is also run, with the real handler: test/jobs.test.ts.)
 */
import { Duration } from 'aws-cdk-lib';
import { definitionFromTemplate } from '../support/fake-sfn';
import { functionOf, onlyResource, resourceNamed, synthTerminator } from '../support/construct-helpers';
import { JOB_REFUSALS } from '../../lib/contract';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:handler';

describe('the state machine', () => {
  const { template } = synthTerminator({ timeout: Duration.minutes(5) });
  const machine = onlyResource(template, 'AWS::StepFunctions::StateMachine').resource.Properties;
  const definition = definitionFromTemplate(template, FUNCTION_ARN) as {
    StartAt: string;
    States: Record<string, Record<string, unknown>>;
  };

  test('is a Standard state machine, named so that the functions can name it without referencing it', () => {
    expect(machine.StateMachineType).toBe('STANDARD');
    expect(machine.StateMachineName).toMatch(/^TestStack-Terminator-[A-F0-9]{8}$/);
  });

  test('loops over one chunk state until the job is done, failed or aborted', () => {
    expect(definition.StartAt).toBe('WaitFirst');
    expect(Object.keys(definition.States).sort()).toEqual(
      [
        'AbortRecorded',
        'Chunk',
        'ExecutionsFailed',
        'GracePeriod',
        'JobAborted',
        'JobDone',
        'JobFailed',
        'NextStep',
        'WaitFirst',
      ].sort(),
    );
    expect(definition.States.NextStep).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.status', StringEquals: 'done', Next: 'JobDone' },
        { Variable: '$.status', StringEquals: 'failed', Next: 'ExecutionsFailed' },
        { Variable: '$.status', StringEquals: 'aborted', Next: 'JobAborted' },
      ],
      Default: 'WaitFirst',
    });
    expect(definition.States.JobDone).toEqual({ Type: 'Succeed' });
    expect(definition.States.ExecutionsFailed).toEqual({
      Type: 'Fail',
      Error: 'ExecutionsFailed',
      CausePath: '$.summary',
    });
  });

  test("an aborted job ends JobAborted, a Succeed state: an operator's abort raises no JobsFailed alarm", () => {
    expect(definition.States.JobAborted).toMatchObject({ Type: 'Succeed' });
    // Neither the chunk's answer nor an abort recorded before the job existed reaches a Fail state.
    const fails = Object.entries(definition.States)
      .filter(([, state]) => state.Type === 'Fail')
      .map(([name]) => name);
    expect(fails.sort()).toEqual(['ExecutionsFailed', 'JobFailed']);
  });

  test('a job whose state has a notBefore waits until then (a Wait state), any other goes straight to its chunk', () => {
    expect(definition.States.WaitFirst).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.status', StringEquals: 'aborted', Next: 'AbortRecorded' },
        { Variable: '$.notBefore', IsPresent: true, Next: 'GracePeriod' },
      ],
      Default: 'Chunk',
    });
    expect(definition.States.GracePeriod).toMatchObject({
      Type: 'Wait',
      TimestampPath: '$.notBefore',
      Next: 'Chunk',
    });
  });

  test('an abort recorded before its request had a job never reaches the chunk: it waits to be stopped, then ends', () => {
    expect(definition.States.AbortRecorded).toEqual({
      Type: 'Wait',
      Seconds: 300,
      Next: 'JobAborted',
      Comment: expect.any(String),
    });
  });

  test("the chunk invokes the handler with the job's state and its own execution, and answers the next state", () => {
    expect(definition.States.Chunk).toMatchObject({
      Type: 'Task',
      Resource: FUNCTION_ARN,
      Parameters: { 'swfTerminatorJob.$': '$', 'execution.$': '$$.Execution.Id' },
      Next: 'NextStep',
      // The function's timeout (5 minutes) and a minute more.
      TimeoutSeconds: 360,
    });
    expect(definition.States.Chunk).not.toHaveProperty('ResultPath');
  });

  test('retries a chunk with backoff, waits its turn when the function is busy, never retries a refusal', () => {
    expect(definition.States.Chunk?.Retry).toEqual([
      { ErrorEquals: [...JOB_REFUSALS], MaxAttempts: 0 },
      {
        ErrorEquals: ['Lambda.TooManyRequestsException'],
        IntervalSeconds: 5,
        BackoffRate: 1.5,
        MaxDelaySeconds: 60,
        MaxAttempts: 60,
        JitterStrategy: 'FULL',
      },
      {
        ErrorEquals: ['States.ALL'],
        IntervalSeconds: 10,
        BackoffRate: 2,
        MaxAttempts: 5,
        JitterStrategy: 'FULL',
      },
    ]);
    expect(JOB_REFUSALS).toEqual(
      expect.arrayContaining(['InvalidRequestError', 'DomainNotAllowedError', 'TooManyExecutionsError']),
    );
  });

  test("what still fails ends in JobFailed, keeping the error beside the job's state", () => {
    expect(definition.States.Chunk?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'JobFailed' },
    ]);
    expect(definition.States.JobFailed).toMatchObject({
      Type: 'Fail',
      ErrorPath: '$.error.Error',
      CausePath: '$.error.Cause',
    });
  });

  test("its role may invoke the handler (and the handler's versions), nothing else", () => {
    const { logicalId: fnId } = functionOf(template);
    const policy = resourceNamed(template, 'AWS::IAM::Policy', 'TerminatorJobsRoleDefaultPolicy').resource
      .Properties;
    expect(policy.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: [
            { 'Fn::GetAtt': [fnId, 'Arn'] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fnId, 'Arn'] }, ':*']] },
          ],
        },
      ],
    });
    const role = resourceNamed(template, 'AWS::IAM::Role', 'TerminatorJobsRole').resource.Properties;
    // Assumed by Step Functions of this account only (CDK adds the confused-deputy conditions).
    expect(role.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        expect.objectContaining({
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'states.amazonaws.com' },
          Condition: expect.objectContaining({
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          }),
        }),
      ],
    });
    expect(role).not.toHaveProperty('ManagedPolicyArns');
  });
});

describe('the control function', () => {
  const { template } = synthTerminator();

  test('runs the same code, marked as the control function, with a concurrency of its own', () => {
    const control = functionOf(template, 'control').resource.Properties;
    const handler = functionOf(template).resource.Properties;
    expect(control.Code).toEqual(handler.Code);
    expect(control).toMatchObject({ Handler: 'index.handler', ReservedConcurrentExecutions: 1, Timeout: 30 });
    const variables = (control.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toEqual({
      ...(handler.Environment as { Variables: Record<string, unknown> }).Variables,
      CONTROL_ONLY: 'true',
    });
  });

  test('has its own role, without any SWF permission; it starts its own state machine only (to record an abort)', () => {
    const control = functionOf(template, 'control').resource.Properties;
    const { logicalId: roleId } = resourceNamed(template, 'AWS::IAM::Role', 'TerminatorControlRole');
    expect(control.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    const policy = resourceNamed(template, 'AWS::IAM::Policy', 'TerminatorControlRoleDefaultPolicy').resource;
    expect(JSON.stringify(policy.Properties)).not.toMatch(/swf:/);
    const statements = (
      policy.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }
    ).Statement;
    const starting = statements.filter((s) => JSON.stringify(s.Action).includes('states:StartExecution'));
    expect(starting).toHaveLength(1);
    expect(JSON.stringify(starting[0]!.Resource)).toMatch(/:stateMachine:TestStack-Terminator-[A-F0-9]{8}"/);
    // (the simulator proves it allowed there and denied on any other state machine: test/lib/iam.test.ts)
  });
});
