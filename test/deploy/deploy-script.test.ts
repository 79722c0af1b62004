import { afterAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEPLOY, KUBECTL, announceMissing, parseYamlDocuments } from './helpers';

/**
 * deploy/scripts/deploy.sh against a stand-in kubectl that records every call (rendering
 * is passed on to the real kubectl): the migration Job must complete before the
 * Deployments change, and a failed migration must stop the deploy.
 */

announceMissing('kubectl', KUBECTL, 'deploy/scripts/deploy.sh rendering and ordering tests');

const SCRIPT = resolve(DEPLOY, 'scripts/deploy.sh');
const IMAGE = '111122223333.dkr.ecr.eu-west-1.amazonaws.com/nimbuspay:0123456789abcdef0123456789abcdef01234567';
const work = mkdtempSync(join(tmpdir(), 'nimbus-deploy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A kubectl that logs its arguments; `migration` decides what the Job reports. */
function fakeKubectl(migration: 'succeeds' | 'fails', secret = true): { bin: string; log: string } {
  const dir = mkdtempSync(join(work, 'bin-'));
  const log = join(dir, 'calls.log');
  writeFileSync(
    join(dir, 'kubectl'),
    `#!/usr/bin/env bash
echo "$*" >> "${log}"
case "$*" in
  kustomize*) exec "${KUBECTL}" "$@" ;;
  *"get secret nimbus-secrets"*) ${secret ? 'exit 0' : 'exit 1'} ;;
  *"get job nimbus-migrate"*"status.succeeded"*) ${migration === 'succeeds' ? 'echo 1' : 'echo'} ;;
  *"get job nimbus-migrate"*"Failed"*) ${migration === 'fails' ? 'echo True' : 'echo'} ;;
  *"logs job/nimbus-migrate"*) echo "migration 0042 failed: relation already exists" ;;
esac
exit 0
`,
  );
  chmodSync(join(dir, 'kubectl'), 0o755);
  return { bin: dir, log };
}

function run(args: string[], bin?: string) {
  const result = spawnSync('bash', [SCRIPT, ...args], {
    encoding: 'utf8',
    env: { ...process.env, PATH: bin ? `${bin}:${process.env.PATH}` : process.env.PATH },
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('deploy/scripts/deploy.sh', () => {
  test('refuses an unknown environment or a missing image', () => {
    expect(run(['qa', IMAGE]).status).toBe(2);
    expect(run(['dev']).status).toBe(2);
    expect(run(['dev', '']).status).toBe(2);
  });

  test.skipIf(!KUBECTL)('--render puts the image into every container and leaves no placeholder', () => {
    const { status, stdout, stderr } = run(['--render', 'production', IMAGE]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).not.toContain('set-by-deploy-script');
    const pods = parseYamlDocuments(stdout).filter((o) => o.kind === 'Deployment' || o.kind === 'Job');
    expect(pods.map((o) => o.metadata.name).sort()).toEqual(['nimbus-api', 'nimbus-migrate', 'nimbus-worker']);
    for (const pod of pods) expect(pod.spec.template.spec.containers.map((c: any) => c.image)).toEqual([IMAGE]);
  });

  test.skipIf(!KUBECTL)('migrates first, then rolls out, then waits for both Deployments', () => {
    const kubectl = fakeKubectl('succeeds');
    const { status, stdout, stderr } = run(['staging', IMAGE], kubectl.bin);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain(`done: ${IMAGE}`);
    const calls = readFileSync(kubectl.log, 'utf8')
      .trim()
      .split('\n')
      .filter((call) => !call.startsWith('kustomize') && !call.startsWith('get namespace'))
      .map((call) => call.replace(/-f \S+/, '-f MANIFESTS'));
    expect(calls).toEqual([
      '-n nimbus-staging get secret nimbus-secrets',
      '-n nimbus-staging delete job nimbus-migrate --ignore-not-found --wait=true',
      'apply -f MANIFESTS --selector nimbuspay.io/deploy-phase=pre-rollout',
      "-n nimbus-staging get job nimbus-migrate -o jsonpath={.status.succeeded}",
      '-n nimbus-staging get job nimbus-migrate -o jsonpath={.status.conditions[?(@.type=="Failed")].status}',
      'apply -f MANIFESTS',
      '-n nimbus-staging rollout status deployment/nimbus-api --timeout=10m',
      '-n nimbus-staging rollout status deployment/nimbus-worker --timeout=10m',
    ]);
  });

  test.skipIf(!KUBECTL)('a failed migration stops the deploy before any Deployment changes, with the Job logs', () => {
    const kubectl = fakeKubectl('fails');
    const { status, stderr } = run(['production', IMAGE], kubectl.bin);
    expect(status).toBe(1);
    expect(stderr).toContain('migration 0042 failed');
    const calls = readFileSync(kubectl.log, 'utf8').trim().split('\n');
    expect(calls.filter((call) => call.startsWith('apply'))).toEqual([expect.stringContaining('--selector nimbuspay.io/deploy-phase=pre-rollout')]);
    expect(calls.some((call) => call.includes('rollout status'))).toBe(false);
  });

  test.skipIf(!KUBECTL)('without the Secret nothing is applied, and the message says what to do', () => {
    const kubectl = fakeKubectl('succeeds', false);
    const { status, stderr } = run(['dev', IMAGE], kubectl.bin);
    expect(status).toBe(1);
    expect(stderr).toContain('deploy/README.md#secrets');
    expect(readFileSync(kubectl.log, 'utf8')).not.toContain('apply');
  });
});
