import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The jobs of a workflow: each job's name and its lines, found by indentation. */
function jobs(workflow: string): Map<string, string> {
  const body = workflow.slice(workflow.indexOf('\njobs:\n') + '\njobs:\n'.length);
  const found = new Map<string, string>();
  for (const block of body.split(/\n(?= {2}[\w-]+:\n)/)) {
    const name = /^ {2}([\w-]+):/.exec(block)?.[1];
    if (name !== undefined) found.set(name, block);
  }
  return found;
}

describe('the release workflow', () => {
  const workflow = read('.github/workflows/release.yml');
  const all = jobs(workflow);

  it('holds no npm token', () => {
    expect(workflow).not.toMatch(/NPM_TOKEN|NODE_AUTH_TOKEN|secrets\./);
  });

  it('gives the id-token only to a job that runs no install script', () => {
    const top = workflow.slice(workflow.indexOf('\npermissions:'), workflow.indexOf('\njobs:'));
    expect(top.trim()).toBe('permissions:\n  contents: read');
    const privileged = [...all].filter(([, job]) => job.includes('id-token: write'));
    expect(privileged.map(([name]) => name)).toEqual(['publish']);
    for (const [name, job] of all) {
      const installs = [...job.matchAll(/npm (?:ci|install)\b[^\n]*/g)].map(([line]) => line);
      if (job.includes('id-token')) {
        expect(installs.length, name).toBeGreaterThan(0);
        for (const line of installs) expect(line, name).toContain('--ignore-scripts');
        expect(job).not.toMatch(/cache: npm/);
      }
    }
  });

  it('tests in a job of its own, then publishes with trusted publishing and provenance', () => {
    const test = all.get('test') ?? '';
    const publish = all.get('publish') ?? '';
    expect(test).toMatch(/run: npm ci\b/);
    expect(test).toContain('run: npm test');
    expect(publish).toContain('needs: test');
    expect(publish).toMatch(/run: npm publish --provenance\b/);
    expect(publish).toContain('environment: npm');
  });

  it('pins every action to a commit', () => {
    for (const [, action] of workflow.matchAll(/uses: (\S+)/g)) {
      expect(action).toMatch(/@[0-9a-f]{40}$/);
    }
  });
});
