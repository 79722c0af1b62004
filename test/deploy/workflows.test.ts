import { describe, expect, test } from 'bun:test';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { ROOT } from './helpers';

/**
 * The GitHub Actions workflows parse as YAML, reference only scripts, files and npm
 * scripts that exist, and keep the promised pipeline shape: tests against PostgreSQL,
 * image to ECR, dev automatically, staging and production behind environment
 * approvals, migration before rollout.
 */

const WORKFLOWS = resolve(ROOT, '.github/workflows');
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
const workflows = new Map<string, any>(
  files.map((file) => [file, YAML.parse(readFileSync(join(WORKFLOWS, file), 'utf8'), { uniqueKeys: true, strict: true })]),
);
const packageJson = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8'));

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
const stepsOf = (workflow: any): Step[] => Object.values<any>(workflow.jobs).flatMap((job) => job.steps ?? []);

/** Repository paths a shell line runs or reads: `deploy/...`, `./x.sh`, `bash .ci/run`. */
function referencedPaths(script: string): string[] {
  const paths = new Set<string>();
  for (const match of script.matchAll(/(?:^|[\s"'=])(\.?\/?(?:deploy|\.ci|\.github|scripts|bin|test|runtime)\/[\w./-]+)/g)) {
    paths.add(match[1]!.replace(/^\.\//, ''));
  }
  for (const match of script.matchAll(/(?:^|\s)(?:bash|sh)\s+([\w./-]+)/g)) paths.add(match[1]!.replace(/^\.\//, ''));
  return [...paths];
}

describe('.github/workflows', () => {
  test('there are workflows, and each parses with a name, triggers and jobs', () => {
    expect(files.sort()).toEqual(['ci.yml', 'deploy.yml']);
    for (const [file, workflow] of workflows) {
      expect({ file, name: typeof workflow.name, on: typeof workflow.on, jobs: typeof workflow.jobs }).toEqual({
        file,
        name: 'string',
        on: 'object',
        jobs: 'object',
      });
      for (const [id, job] of Object.entries<any>(workflow.jobs)) {
        // A job either runs steps on a runner or calls a reusable workflow.
        expect({ file, id, shape: job.uses ? 'call' : job['runs-on'] && Array.isArray(job.steps) ? 'steps' : 'broken' }).not.toEqual({ file, id, shape: 'broken' });
        for (const step of job.steps ?? []) expect(Boolean(step.uses) !== Boolean(step.run)).toBe(true);
      }
    }
  });

  test('every script, file and npm script a step references exists', () => {
    const checked: string[] = [];
    for (const [file, workflow] of workflows) {
      for (const step of stepsOf(workflow)) {
        const texts = [step.run ?? '', ...Object.values(step.with ?? {}).filter((v): v is string => typeof v === 'string')];
        for (const text of texts) {
          for (const path of referencedPaths(text)) {
            expect({ file, path, exists: existsSync(resolve(ROOT, path)) }).toEqual({ file, path, exists: true });
            checked.push(path);
          }
          for (const match of text.matchAll(/npm (?:run(?:-script)? )?(\w[\w:-]*)/g)) {
            const script = match[1]!;
            if (['ci', 'install'].includes(script)) continue;
            expect({ file, npmScript: script, exists: script in packageJson.scripts }).toEqual({ file, npmScript: script, exists: true });
          }
        }
      }
      // Local reusable workflows.
      for (const job of Object.values<any>(workflow.jobs)) {
        if (job.uses?.startsWith('./')) expect(existsSync(resolve(ROOT, job.uses))).toBe(true);
      }
    }
    expect(checked).toContain('deploy/scripts/deploy.sh');
    expect(checked).toContain('deploy/ci-install.sh');
    expect(checked).toContain('deploy/Dockerfile');
    expect(checked).toContain('.ci/run');
  });

  test('scripts run by a workflow are executable', () => {
    for (const path of ['deploy/scripts/deploy.sh', 'deploy/ci-install.sh']) {
      expect({ path, executable: (statSync(resolve(ROOT, path)).mode & 0o111) !== 0 }).toEqual({ path, executable: true });
    }
  });

  test('third-party actions are pinned to a version', () => {
    for (const workflow of workflows.values()) {
      for (const step of stepsOf(workflow)) {
        if (step.uses) expect(step.uses).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})$/);
      }
    }
  });

  test('ci: the project CI script runs against a PostgreSQL service container, before anything is built', () => {
    const ci = workflows.get('ci.yml');
    const postgres = ci.jobs.test.services.postgres;
    expect(postgres.image).toMatch(/^postgres:\d+/);
    expect(postgres.ports).toContain('5432:5432');
    expect(postgres.options).toContain('--health-cmd');
    // promtool is installed first (as root), then the same script as every submission's CI.
    expect(ci.jobs.test.steps.map((s: Step) => s.run).filter(Boolean)).toEqual(['sudo bash deploy/ci-install.sh', 'bash .ci/run']);
    expect(readFileSync(resolve(ROOT, '.ci/run'), 'utf8')).toContain('127.0.0.1');
    expect(ci.jobs.image.needs).toBe('test');
  });

  test('ci: the image is built from deploy/Dockerfile and pushed to ECR tagged with the commit, on main only', () => {
    const image = workflows.get('ci.yml').jobs.image;
    const build = image.steps.find((s: Step) => s.uses?.startsWith('docker/build-push-action@'));
    expect(build.with.file).toBe('deploy/Dockerfile');
    expect(build.with.tags).toContain('vars.ECR_REPOSITORY');
    expect(build.with.tags).toContain('github.sha');
    expect(image.env.PUSH).toContain("github.ref == 'refs/heads/main'");
    expect(image.steps.some((s: Step) => s.uses?.startsWith('aws-actions/amazon-ecr-login@'))).toBe(true);
    // OIDC role, no stored AWS keys.
    expect(image.permissions['id-token']).toBe('write');
    expect(JSON.stringify([...workflows.values()])).not.toMatch(/AWS_SECRET_ACCESS_KEY|aws-secret-access-key/);
  });

  test('ci: dev deploys automatically from main, then staging, then production', () => {
    const jobs = workflows.get('ci.yml').jobs;
    expect(jobs['deploy-dev'].needs).toBe('image');
    expect(jobs['deploy-dev'].if).toContain("github.ref == 'refs/heads/main'");
    expect(jobs['deploy-staging'].needs).toBe('deploy-dev');
    expect(jobs['deploy-production'].needs).toBe('deploy-staging');
    for (const [id, env] of [['deploy-dev', 'dev'], ['deploy-staging', 'staging'], ['deploy-production', 'production']] as const) {
      expect(jobs[id].uses).toBe('./.github/workflows/deploy.yml');
      expect(jobs[id].with).toEqual({ environment: env, image_tag: '${{ github.sha }}' });
    }
  });

  test('deploy: runs in the GitHub environment of its target (approvals), and migrates before rolling out', () => {
    const deploy = workflows.get('deploy.yml');
    expect(Object.keys(deploy.on).sort()).toEqual(['workflow_call', 'workflow_dispatch']);
    expect(deploy.on.workflow_dispatch.inputs.environment.options).toEqual(['dev', 'staging', 'production']);
    const job = deploy.jobs.deploy;
    expect(job.environment).toBe('${{ inputs.environment }}');
    expect(deploy.concurrency['cancel-in-progress']).toBe(false);
    const runs = job.steps.map((s: Step) => s.run).filter(Boolean) as string[];
    // deploy.sh applies and waits for the migration Job before it touches a Deployment
    // (test/deploy/deploy-script.test.ts); nothing else may apply manifests first.
    const first = runs.findIndex((r) => /kubectl apply|deploy\.sh/.test(r));
    expect(runs[first]).toContain('deploy/scripts/deploy.sh');
    // The checked-out manifests are those of the deployed commit (also for rollbacks).
    expect(job.steps[0]).toEqual({ uses: 'actions/checkout@v4', with: { ref: '${{ inputs.image_tag }}' } });
    // Untrusted inputs reach shells only through env.
    for (const run of runs) expect(run).not.toContain('${{');
  });
});
