#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { parseDomains, SwfTerminatorExampleStack } from './example-stack';

const app = new App();
// Environment-agnostic: deploys to whatever account and region the CLI's credentials point at.
new SwfTerminatorExampleStack(app, 'SwfTerminatorExampleStack', {
  domains: parseDomains(app.node.tryGetContext('domains')),
  description: 'Example: terminates Amazon SWF workflow executions on request (cdk-swf-terminator)',
});
app.synth();
