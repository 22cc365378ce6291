/**
 * Helpers for the construct tests (test/lib/*.test.ts): a test app that skips asset bundling,
 * and a resolver that turns the CloudFormation intrinsics of a synthesized template into the concrete
 * strings they would become in one account and region.
 */
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SwfTerminator, type SwfTerminatorProps } from '../../lib';

/** An app for construct tests (the handler is prebuilt: synth only copies its asset). */
export function testApp(): App {
  return new App();
}

/** A stack holding one SwfTerminator with the given props, and its synthesized template. */
export function synthTerminator(
  props: Partial<SwfTerminatorProps> = {},
  stackProps: StackProps = {},
): { stack: Stack; terminator: SwfTerminator; template: Template } {
  const app = testApp();
  const stack = new Stack(app, 'TestStack', stackProps);
  const terminator = new SwfTerminator(stack, 'Terminator', { domains: ['orders', 'billing'], ...props });
  return { stack, terminator, template: Template.fromStack(stack) };
}

/** The resource of a type whose logical id starts with `prefix` (there must be exactly one). */
export function resourceNamed(
  template: Template,
  type: string,
  prefix: string,
): { logicalId: string; resource: { Properties: Record<string, unknown> } } {
  const found = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1)
    throw new Error(`expected exactly one ${type} named ${prefix}*, found ${found.length}`);
  const [logicalId, resource] = found[0]!;
  return { logicalId, resource: resource as { Properties: Record<string, unknown> } };
}

/** The terminating function (`handler`) or the control function (`control`) of a synthesized terminator. */
export function functionOf(template: Template, which: 'handler' | 'control' = 'handler') {
  return resourceNamed(
    template,
    'AWS::Lambda::Function',
    which === 'handler' ? 'TerminatorHandler' : 'TerminatorControlHandler',
  );
}

/** The one resource of a type in a template, by logical id. */
export function onlyResource(
  template: Template,
  type: string,
): { logicalId: string; resource: { Properties: Record<string, unknown> } } {
  const found = template.findResources(type);
  const ids = Object.keys(found);
  if (ids.length !== 1) throw new Error(`expected exactly one ${type}, found ${ids.length}`);
  const logicalId = ids[0]!;
  return { logicalId, resource: found[logicalId] as { Properties: Record<string, unknown> } };
}

/** The concrete environment a template is resolved in. */
export interface ConcreteEnv {
  readonly partition: string;
  readonly account: string;
  readonly region: string;
}

/**
 * Resolves `Ref` (pseudo parameters, log groups, event buses), `Fn::Join`, `Fn::Select` of `Fn::Split`, and
 * `Fn::GetAtt ... Arn` of log groups, queues, Lambda functions, event buses and rules to concrete strings, as
 * CloudFormation would in `env`. A resource's physical name is taken to be its logical id. Anything else throws,
 * so a new intrinsic in a policy cannot slip through unresolved.
 */
export function resolveIntrinsics(value: unknown, template: Template, env: ConcreteEnv): unknown {
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  const resolve = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v === null || typeof v !== 'object') return v;
    const obj = v as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === 'Ref') {
      const ref = obj.Ref as string;
      const pseudo: Record<string, string> = {
        'AWS::Partition': env.partition,
        'AWS::AccountId': env.account,
        'AWS::Region': env.region,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      const resolved = pseudo[ref];
      // A log group's or a bus's Ref is its name: taken to be its logical id, like every physical name here.
      const named = ['AWS::Logs::LogGroup', 'AWS::Events::EventBus', 'AWS::DynamoDB::Table'];
      if (resolved === undefined && named.includes(resources[ref]?.Type ?? '')) return ref;
      if (resolved === undefined) throw new Error(`cannot resolve Ref ${ref}`);
      return resolved;
    }
    if (keys.length === 1 && keys[0] === 'Fn::Join') {
      const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => String(resolve(p))).join(sep);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Select') {
      const [index, list] = obj['Fn::Select'] as [number | string, unknown];
      const items = resolve(list);
      if (!Array.isArray(items)) throw new Error('cannot resolve Fn::Select of a non-list');
      return items[Number(index)] as unknown;
    }
    if (keys.length === 1 && keys[0] === 'Fn::Split') {
      const [sep, text] = obj['Fn::Split'] as [string, unknown];
      return String(resolve(text)).split(sep);
    }
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [logicalId, attr] = obj['Fn::GetAtt'] as [string, string];
      const type = resources[logicalId]?.Type;
      const events = `arn:${env.partition}:events:${env.region}:${env.account}`;
      if (attr === 'Arn' && type === 'AWS::Events::EventBus') return `${events}:event-bus/${logicalId}`;
      if (attr === 'Arn' && type === 'AWS::Events::Rule') {
        // A rule on a bus other than the default is named under it: rule/BUS/NAME.
        const props = (resources[logicalId] as { Properties?: { EventBusName?: unknown } }).Properties;
        const bus = props?.EventBusName === undefined ? undefined : String(resolve(props.EventBusName));
        return `${events}:rule/${bus === undefined || bus === 'default' ? '' : `${bus}/`}${logicalId}`;
      }
      if (attr === 'Arn' && type === 'AWS::Logs::LogGroup') {
        return `arn:${env.partition}:logs:${env.region}:${env.account}:log-group:${logicalId}:*`;
      }
      if (attr === 'Arn' && type === 'AWS::SQS::Queue') {
        return `arn:${env.partition}:sqs:${env.region}:${env.account}:${logicalId}`;
      }
      if (attr === 'Arn' && type === 'AWS::Lambda::Function') {
        // The unqualified function ARN, as CloudFormation's GetAtt Arn returns it.
        return `arn:${env.partition}:lambda:${env.region}:${env.account}:function:${logicalId}`;
      }
      if (attr === 'Arn' && type === 'AWS::DynamoDB::Table') {
        return `arn:${env.partition}:dynamodb:${env.region}:${env.account}:table/${logicalId}`;
      }
      throw new Error(`cannot resolve Fn::GetAtt ${logicalId}.${attr} (${String(type)})`);
    }
    if (keys.some((k) => k.startsWith('Fn::'))) throw new Error(`cannot resolve ${keys.join(',')}`);
    return Object.fromEntries(keys.map((k) => [k, resolve(obj[k])]));
  };
  return resolve(value);
}

/**
 * The logical ids each resource of a template depends on (`Template.fromStack` / `fromJSON` already
 * refuse a template with a dependency cycle; this says which resource waits for which), as CloudFormation orders them: `DependsOn`,
 * and every `Ref` / `Fn::GetAtt` / `Fn::Sub` reference to another resource in its properties (pseudo
 * parameters and parameters are not resources and are skipped).
 */
export function resourceDependencies(template: Template): Map<string, Set<string>> {
  const resources = template.toJSON().Resources as Record<
    string,
    { Properties?: unknown; DependsOn?: string | string[] }
  >;
  const ids = new Set(Object.keys(resources));
  const graph = new Map<string, Set<string>>();
  const collect = (v: unknown, into: Set<string>): void => {
    if (Array.isArray(v)) {
      v.forEach((x) => {
        collect(x, into);
      });
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const obj = v as Record<string, unknown>;
    for (const [key, value] of Object.entries(obj)) {
      if (key === 'Ref' && typeof value === 'string' && ids.has(value)) into.add(value);
      else if (key === 'Fn::GetAtt' && Array.isArray(value) && ids.has(String(value[0]))) {
        into.add(String(value[0]));
      } else if (key === 'Fn::Sub') {
        const text = Array.isArray(value) ? String(value[0]) : String(value);
        for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}/g)) {
          if (ids.has(m[1]!)) into.add(m[1]!);
        }
        if (Array.isArray(value)) collect(value[1], into);
      } else collect(value, into);
    }
  };
  for (const [id, resource] of Object.entries(resources)) {
    const deps = new Set<string>();
    collect(resource.Properties, deps);
    const dependsOn = resource.DependsOn;
    for (const d of typeof dependsOn === 'string' ? [dependsOn] : (dependsOn ?? [])) deps.add(d);
    graph.set(id, deps);
  }
  return graph;
}
