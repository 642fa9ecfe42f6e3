import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadDeployPlan } from '../lib/deploy-config.js';
import { RivetStack } from '../lib/rivet-stack.js';

/**
 * The CDK app: `npx cdk synth` (or `deploy`) from the repository root. The deploy file is
 * `-c deploy=<path to rivet.deploy.yaml>`, else RIVET_DEPLOY, else the example in
 * infra/example/ so a fresh clone synthesizes offline.
 */
const repoRoot = process.env.RIVET_REPO_ROOT ?? process.cwd();
const app = new App();
const deployPath = (app.node.tryGetContext('deploy') as string | undefined) ?? process.env.RIVET_DEPLOY ?? path.join(repoRoot, 'infra/example/rivet.deploy.yaml');
const plan = await loadDeployPlan(deployPath);
new RivetStack(app, plan.deploy.stack_name, {
  plan,
  repoRoot,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
