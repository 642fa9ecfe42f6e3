import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadDeployPlan } from '../../infra/lib/deploy-config.js';
import { RivetStack } from '../../infra/lib/rivet-stack.js';
import { REPO_ROOT } from '../helpers/cli.js';

export interface Synthesized {
  app: App;
  stack: RivetStack;
  template: Template;
  /** The cloud assembly directory (asset bundles are under it when `bundle` is set). */
  outdir: string;
}

/**
 * Synthesize the stack in-process from a rivet.deploy.yaml, with the cdk-nag AwsSolutions
 * pack as a validation plugin (synth throws if it reports an unacknowledged error).
 * `bundle: false` skips esbuild (template tests need the template, not the code).
 */
export async function synthRivet(deployPath: string, options: { bundle?: boolean; outdir?: string } = {}): Promise<Synthesized> {
  const plan = await loadDeployPlan(deployPath);
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new RivetStack(app, plan.deploy.stack_name, { plan, repoRoot: REPO_ROOT, env: { account: '123456789012', region: 'eu-west-1' } });
  const assembly = app.synth();
  return { app, stack, template: Template.fromStack(stack), outdir: assembly.directory };
}
