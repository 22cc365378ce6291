/**
 * The intrinsics of a synthesized template resolved as CloudFormation would resolve them in one account and
 * region: how the tests and `swf-terminator demo` give the local functions the environment a deployment gives
 * them.
 */
import type { TemplateJson } from './sfn';

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
export function resolveIn(value: unknown, template: TemplateJson, env: ConcreteEnv): unknown {
  const resources = template.Resources;
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
