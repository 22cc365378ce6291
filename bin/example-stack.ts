import { Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SwfTerminator } from 'cdk-swf-terminator';

/** The domains the example app protects when no `-c domains=...` is given. */
export const EXAMPLE_DOMAINS = 'orders,billing';

/**
 * Reads the `domains` context value (`-c domains=orders,billing`): a comma-separated list, blanks and
 * surrounding spaces dropped. The construct validates the names themselves.
 */
export function parseDomains(value: unknown): string[] {
  const text = typeof value === 'string' ? value : EXAMPLE_DOMAINS;
  return text
    .split(',')
    .map((domain) => domain.trim())
    .filter((domain) => domain.length > 0);
}

/** Props of {@link SwfTerminatorExampleStack}. */
export interface SwfTerminatorExampleStackProps extends StackProps {
  /** The SWF domains to protect. */
  readonly domains: string[];
}

/** The example app's one stack: a single {@link SwfTerminator} for the given domains, its alarms and dashboard. */
export class SwfTerminatorExampleStack extends Stack {
  public readonly terminator: SwfTerminator;

  constructor(scope: Construct, id: string, props: SwfTerminatorExampleStackProps) {
    super(scope, id, props);
    this.terminator = new SwfTerminator(this, 'Terminator', { domains: props.domains });
    // The alarms that need a human; give them an action (alarmActions, or a topic) in a real deployment.
    this.terminator.addAlarms();
    this.terminator.addDashboard();
  }
}
