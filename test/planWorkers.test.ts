import { afterEach, describe, expect, it, vi } from 'vitest';
import { planNlsqFitSync } from '../src/index.js';
import { slurmTasksOnNode } from '../src/sources/slurm.js';
import { captureWarnings, GIB } from './helpers.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

type Env = Record<string, string>;

describe('Slurm tasks on this node', () => {
  it.each<[string, Env, number, string]>([
    ['SLURM_NTASKS_PER_NODE', { SLURM_NTASKS_PER_NODE: '4' }, 4, 'SLURM_NTASKS_PER_NODE'],
    [
      'SLURM_NTASKS_PER_NODE before SLURM_TASKS_PER_NODE',
      { SLURM_NTASKS_PER_NODE: '3', SLURM_TASKS_PER_NODE: '8', SLURM_NODEID: '0' },
      3,
      'SLURM_NTASKS_PER_NODE',
    ],
    ['a single count', { SLURM_TASKS_PER_NODE: '4' }, 4, 'SLURM_TASKS_PER_NODE'],
    [
      'a single count on node 0',
      { SLURM_TASKS_PER_NODE: '4', SLURM_NODEID: '0' },
      4,
      'SLURM_TASKS_PER_NODE',
    ],
    [
      '2(x3),1 on node 0',
      { SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '0' },
      2,
      'SLURM_TASKS_PER_NODE',
    ],
    [
      '2(x3),1 on node 1',
      { SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '1' },
      2,
      'SLURM_TASKS_PER_NODE',
    ],
    [
      '2(x3),1 on node 2',
      { SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '2' },
      2,
      'SLURM_TASKS_PER_NODE',
    ],
    [
      '2(x3),1 on node 3',
      { SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '3' },
      1,
      'SLURM_TASKS_PER_NODE',
    ],
    [
      '1,3(x2),5 on node 3',
      { SLURM_TASKS_PER_NODE: '1,3(x2),5', SLURM_NODEID: '3' },
      5,
      'SLURM_TASKS_PER_NODE',
    ],
    [
      'every node alike, without SLURM_NODEID',
      { SLURM_TASKS_PER_NODE: '2(x3)' },
      2,
      'SLURM_TASKS_PER_NODE',
    ],
    [
      'a huge repeat count',
      { SLURM_TASKS_PER_NODE: '6(x9007199254740991)', SLURM_NODEID: '123456789' },
      6,
      'SLURM_TASKS_PER_NODE',
    ],
    ['spaces around figures', { SLURM_NTASKS_PER_NODE: ' 4 ' }, 4, 'SLURM_NTASKS_PER_NODE'],
    [
      'an invalid SLURM_NTASKS_PER_NODE, then the list',
      { SLURM_NTASKS_PER_NODE: '0', SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '3' },
      1,
      'SLURM_TASKS_PER_NODE',
    ],
  ])('reads %s', (_, env, tasks, origin) => {
    expect(slurmTasksOnNode(env)).toEqual({ tasks, origin, guessed: false });
  });

  it.each<[string, Env, number]>([
    ['a node past the list', { SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '4' }, 2],
    ['a node id that is no number', { SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: 'x' }, 2],
    ['a negative node id', { SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '-1' }, 2],
    ['nodes that differ, without SLURM_NODEID', { SLURM_TASKS_PER_NODE: '1,8' }, 8],
  ])('takes the largest entry, guessed, for %s: never too few workers', (_, env, tasks) => {
    expect(slurmTasksOnNode(env)).toEqual({ tasks, origin: 'SLURM_TASKS_PER_NODE', guessed: true });
  });

  it.each<[string, Env]>([
    ['no Slurm variables', {}],
    ['an empty SLURM_NTASKS_PER_NODE', { SLURM_NTASKS_PER_NODE: '' }],
    ['SLURM_NTASKS_PER_NODE of 0', { SLURM_NTASKS_PER_NODE: '0' }],
    ['a negative SLURM_NTASKS_PER_NODE', { SLURM_NTASKS_PER_NODE: '-2' }],
    ['a fractional SLURM_NTASKS_PER_NODE', { SLURM_NTASKS_PER_NODE: '1.5' }],
    ['an unsafe SLURM_NTASKS_PER_NODE', { SLURM_NTASKS_PER_NODE: '9007199254740993' }],
  ])('answers nothing for %s, without throwing', (_, env) => {
    expect(slurmTasksOnNode(env)).toBeUndefined();
  });

  it.each<[string, Env]>([
    ['an empty list', { SLURM_TASKS_PER_NODE: '', SLURM_NODEID: '0' }],
    ['letters', { SLURM_TASKS_PER_NODE: 'abc', SLURM_NODEID: '0' }],
    ['an unclosed repeat', { SLURM_TASKS_PER_NODE: '2(x3', SLURM_NODEID: '0' }],
    ['a repeat without x', { SLURM_TASKS_PER_NODE: '2(3)', SLURM_NODEID: '0' }],
    ['a repeat of 0', { SLURM_TASKS_PER_NODE: '2(x0),1', SLURM_NODEID: '0' }],
    ['0 tasks', { SLURM_TASKS_PER_NODE: '0', SLURM_NODEID: '0' }],
    ['an empty entry', { SLURM_TASKS_PER_NODE: '2,,1', SLURM_NODEID: '0' }],
  ])('takes every task of the job, guessed, for a malformed list: %s', (_, env) => {
    const list = env.SLURM_TASKS_PER_NODE as string;
    expect(slurmTasksOnNode(env)).toEqual({
      tasks: 1,
      origin: 'SLURM_TASKS_PER_NODE',
      guessed: true,
      malformed: list,
    });
    expect(slurmTasksOnNode({ ...env, SLURM_NTASKS: '12' })).toEqual({
      tasks: 12,
      origin: 'SLURM_NTASKS',
      guessed: true,
      malformed: list,
    });
  });
});

describe("workers: 'auto'", () => {
  const plan = (env: Env) =>
    planNlsqFitSync(1_000_000, 53, { totalMemoryBytes: 64 * GIB, workers: 'auto', env });

  it.each<[Env, number]>([
    [{ SLURM_NTASKS_PER_NODE: '4' }, 4],
    [{ SLURM_TASKS_PER_NODE: '4' }, 4],
    [{ SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '0' }, 2],
    [{ SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '1' }, 2],
    [{ SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '2' }, 2],
    [{ SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '3' }, 1],
    [{}, 1],
    [{ SLURM_NTASKS_PER_NODE: 'four' }, 1],
    [{ SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '9' }, 2],
    [{ SLURM_TASKS_PER_NODE: '1,8' }, 8],
    [{ SLURM_TASKS_PER_NODE: '4(x2', SLURM_NTASKS: '8' }, 8],
    [{ SLURM_TASKS_PER_NODE: '4(x2' }, 1],
  ])('%o shares the threshold among %d workers', (env, workers) => {
    captureWarnings();
    const result = plan(env);
    expect(result.workers).toBe(workers);
    expect(result.thresholdBytes).toBe(Math.floor((48 * GIB) / workers));
    expect(result.decision.thresholdGb).toBe(48 / workers);
  });

  it('warns when it cannot tell which node this is, and plans for the busiest', () => {
    const warnings = captureWarnings();
    expect(plan({ SLURM_TASKS_PER_NODE: '1,8' }).workers).toBe(8);
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_WORKERS_GUESSED',
        message: expect.stringContaining('SLURM_TASKS_PER_NODE=1,8'),
      },
    ]);
    expect(plan({ SLURM_TASKS_PER_NODE: '2(x3),1', SLURM_NODEID: '3' }).workers).toBe(1);
    expect(warnings).toHaveLength(1);
  });

  it('warns when SLURM_TASKS_PER_NODE cannot be read, and plans for every task of the job', () => {
    let warnings = captureWarnings();
    expect(plan({ SLURM_TASKS_PER_NODE: '4(x2', SLURM_NTASKS: '8' }).workers).toBe(8);
    expect(warnings).toEqual([
      {
        code: 'NLSQ_MEMORY_WORKERS_GUESSED',
        message:
          'SLURM_TASKS_PER_NODE="4(x2" cannot be read: planning for every task of the job (SLURM_NTASKS), 8',
      },
    ]);
    warnings = captureWarnings();
    expect(plan({ SLURM_TASKS_PER_NODE: 'abc' }).workers).toBe(1);
    expect(warnings[0]?.message).toBe(
      'SLURM_TASKS_PER_NODE="abc" cannot be read: planning for one task, since SLURM_NTASKS is not set either',
    );
  });

  it('reads process.env when no env is given', () => {
    vi.stubEnv('SLURM_NTASKS_PER_NODE', '8');
    vi.stubEnv('NLSQ_MEMORY_FRACTION', undefined);
    const result = planNlsqFitSync(1_000_000, 53, { totalMemoryBytes: 64 * GIB, workers: 'auto' });
    expect(result.workers).toBe(8);
    expect(result.thresholdBytes).toBe(6 * GIB);
  });

  it('uses one worker by default, whatever Slurm says', () => {
    expect(plan({ SLURM_NTASKS_PER_NODE: '4' }).workers).toBe(4);
    expect(
      planNlsqFitSync(1, 1, { totalMemoryBytes: GIB, env: { SLURM_NTASKS_PER_NODE: '4' } }).workers,
    ).toBe(1);
  });
});

describe('workers: n', () => {
  it('divides the threshold before deciding: 2.57 GB fits 3 GB, not 1.5 GB', () => {
    const budget = { totalMemoryBytes: 4 * GIB, env: {} };
    const alone = planNlsqFitSync(1_000_000, 53, budget);
    const shared = planNlsqFitSync(1_000_000, 53, { ...budget, workers: 2 });
    expect(alone.decision.strategy).toBe('standard');
    expect(alone.decision.thresholdGb).toBe(3);
    expect(shared.decision.strategy).toBe('out_of_core');
    expect(shared.decision.thresholdGb).toBe(1.5);
    expect(shared.thresholdBytes).toBe(1.5 * GIB);
    expect(shared.reason).toMatch(/budget per worker \(1\.50 GB\)/);
    // Every threshold a reason shows says it is one worker's.
    expect(shared.decision.reason).toBe(
      'Peak memory (2.57 GB) exceeds threshold (1.50 GB per worker of 2)',
    );
    expect(planNlsqFitSync(1000, 53, { ...budget, workers: 2 }).decision.reason).toBe(
      'Memory fits: 0.00 GB < 1.50 GB threshold per worker of 2',
    );
  });

  it('rounds the share down to whole bytes', () => {
    const result = planNlsqFitSync(10, 1, {
      totalMemoryBytes: 4 * GIB,
      env: {},
      workers: 7,
    });
    expect(result.thresholdBytes).toBe(Math.floor((3 * GIB) / 7));
  });
});
