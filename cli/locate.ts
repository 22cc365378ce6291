/**
 * Finding a deployed terminator: from its stack (`--stack`, or SWF_TERMINATOR_STACK), by the metadata entry
 * the construct writes on its functions (lib/operator-contract.ts), so generated names never matter; or from
 * function names given outright (`--function`, `--control-function`, `--verifier-function`,
 * `--restore-function`).
 */
import {
  type CloudFormationClient,
  DescribeStackResourceCommand,
  GetTemplateCommand,
} from '@aws-sdk/client-cloudformation';
import {
  OPERATOR_METADATA_KEY,
  OPERATOR_METADATA_VERSION,
  type OperatorFunctionRole,
  type MarkedResource,
  markedResources,
  type PolicyManifest,
} from '../lib/operator-contract';
import { CommandError, EXIT, usageError } from './exit-codes';

/** A terminator, as the command talks to it. */
export interface Terminator {
  /** The terminating function: requests, previews. */
  readonly handler: string;
  /** The control function: status, jobs, abort (the terminating function when only it is known). */
  readonly control: string;
  readonly verifier?: string;
  /** The restore function (a terminator deployed with allowRestore). */
  readonly restore?: string;
  /** Known from a stack only. */
  readonly domains?: readonly string[];
  readonly policies?: readonly PolicyManifest[];
}

export interface LocateFlags {
  readonly stack?: string;
  readonly terminator?: string;
  readonly function?: string;
  readonly controlFunction?: string;
  readonly verifierFunction?: string;
  readonly restoreFunction?: string;
}

export async function locate(flags: LocateFlags, cloudFormation: CloudFormationClient): Promise<Terminator> {
  if (flags.function !== undefined) {
    if (flags.stack !== undefined) throw usageError('--function', 'give --stack or --function, not both');
    return {
      handler: flags.function,
      control: flags.controlFunction ?? flags.function,
      ...(flags.verifierFunction === undefined ? {} : { verifier: flags.verifierFunction }),
      ...(flags.restoreFunction === undefined ? {} : { restore: flags.restoreFunction }),
    };
  }
  const stack = flags.stack ?? process.env.SWF_TERMINATOR_STACK;
  if (stack === undefined || stack === '') {
    throw usageError(
      '--stack',
      "name the terminator's stack (or set SWF_TERMINATOR_STACK), or give --function",
    );
  }
  const body = (await cloudFormation.send(new GetTemplateCommand({ StackName: stack }))).TemplateBody ?? '';
  const entries = markedFunctions(stack, body);
  const paths = [...new Set(entries.map((e) => e.metadata.terminator))];
  if (paths.length === 0) {
    throw new CommandError(
      `stack ${stack} holds no SwfTerminator (no function carries its "${OPERATOR_METADATA_KEY}" metadata)`,
      EXIT.unreachable,
    );
  }
  const chosen = flags.terminator ?? (paths.length === 1 ? paths[0] : undefined);
  if (chosen === undefined || !paths.includes(chosen)) {
    throw usageError(
      '--terminator',
      `stack ${stack} holds ${paths.length === 1 ? 'one terminator' : 'several terminators'}: give one of ${paths.join(', ')}`,
    );
  }
  const mine = entries.filter((e) => e.metadata.terminator === chosen);
  const nameOf = async (role: OperatorFunctionRole): Promise<string | undefined> => {
    const entry = mine.find((e) => e.metadata.role === role);
    if (entry === undefined) return undefined;
    const answer = await cloudFormation.send(
      new DescribeStackResourceCommand({ StackName: stack, LogicalResourceId: entry.logicalId }),
    );
    return answer.StackResourceDetail?.PhysicalResourceId;
  };
  const [handler, control, verifier, restore] = await Promise.all([
    nameOf('handler'),
    nameOf('control'),
    nameOf('verifier'),
    nameOf('restore'),
  ]);
  if (handler === undefined) {
    throw new CommandError(
      `stack ${stack}: terminator ${chosen} has no terminating function deployed`,
      EXIT.unreachable,
    );
  }
  const handlerEntry = mine.find((e) => e.metadata.role === 'handler')?.metadata;
  return {
    handler,
    control: control ?? handler,
    ...(verifier === undefined ? {} : { verifier }),
    ...(restore === undefined ? {} : { restore }),
    domains: handlerEntry?.domains ?? [],
    policies: handlerEntry?.policies ?? [],
  };
}

/** The template's resources that carry the operator's metadata entry, of a version this command reads. */
function markedFunctions(stack: string, body: string): MarkedResource[] {
  let template: { Resources?: Record<string, { Metadata?: Record<string, unknown> }> };
  try {
    template = JSON.parse(body) as typeof template;
  } catch {
    throw new CommandError(
      `stack ${stack}: its template is not JSON (a CDK app deploys JSON)`,
      EXIT.unreachable,
    );
  }
  const found = markedResources(template.Resources ?? {});
  for (const { logicalId, metadata } of found) {
    if (metadata.version !== OPERATOR_METADATA_VERSION) {
      throw new CommandError(
        `stack ${stack}: ${logicalId} was deployed by another version of cdk-swf-terminator (metadata version ${String(metadata.version)}); use the command of that version`,
        EXIT.unreachable,
      );
    }
  }
  return found;
}
