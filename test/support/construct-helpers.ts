/**
 * Helpers for the construct tests (test/lib/*.test.ts): a test app that skips asset bundling,
 * and a resolver that turns the CloudFormation intrinsics of a synthesized template into the concrete
 * strings they would become in one account and region.
 */
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SwfTerminator, type SwfTerminatorProps } from '../../lib';
import { type ConcreteEnv, resolveIn } from '../../local/intrinsics';
import type { TemplateJson } from '../../local/sfn';

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

export type { ConcreteEnv } from '../../local/intrinsics';

/** {@link resolveIn} (local/intrinsics.ts) over a synthesized template. */
export function resolveIntrinsics(value: unknown, template: Template, env: ConcreteEnv): unknown {
  return resolveIn(value, template.toJSON() as TemplateJson, env);
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
