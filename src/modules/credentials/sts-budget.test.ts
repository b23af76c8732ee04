import { describe, expect, it } from 'vitest';
import type { AssumedRole, AssumeRoleRequest, StsGateway } from '../../cloud/aws/sts.js';
import { budgetedSts, type StsBudgetOutcome } from './sts-budget.js';

function setup(settings = { perSecond: 2, burst: 2, maxWaitMs: 1_000 }) {
  let now = 0;
  const slept: number[] = [];
  const outcomes: StsBudgetOutcome[] = [];
  const calls: string[] = [];
  const sts: StsGateway = {
    assumeRole: async (r) => {
      calls.push(r.masterCredentials.accessKeyId);
      const assumed: AssumedRole = {
        credentials: { accessKeyId: 'ASIA', secretAccessKey: 's', expiration: new Date(0) },
        assumedRoleArn: undefined,
      };
      return assumed;
    },
  };
  const budgeted = budgetedSts(sts, settings, {
    clock: { now: () => now },
    sleep: async (ms) => {
      slept.push(ms);
    },
    onOutcome: (o) => outcomes.push(o),
  });
  const request = (master: string): AssumeRoleRequest => ({
    masterCredentials: { accessKeyId: master, secretAccessKey: 'x' },
    region: 'us-east-1',
    roleArn: 'arn:aws:iam:::role/r',
    sessionName: 'n',
    durationSeconds: 900,
    policy: '{}',
    connectionName: 'c',
  });
  return { budgeted, request, slept, outcomes, calls, advance: (ms: number) => (now += ms) };
}

describe('the STS budget', () => {
  it('lets a burst through, then spaces calls at the rate, then refuses with sts.rate_limited', async () => {
    const t = setup();
    await t.budgeted.assumeRole(t.request('AK1'));
    await t.budgeted.assumeRole(t.request('AK1'));
    await t.budgeted.assumeRole(t.request('AK1'));
    await t.budgeted.assumeRole(t.request('AK1'));
    expect(t.slept).toEqual([500, 1000]);
    await expect(t.budgeted.assumeRole(t.request('AK1'))).rejects.toMatchObject({
      code: 'sts.rate_limited',
      kind: 'UpstreamUnavailable',
      retryable: true,
    });
    expect(t.outcomes).toEqual(['immediate', 'immediate', 'waited', 'waited', 'rejected']);
    expect(t.calls).toHaveLength(4);
  });

  it('keeps one budget per master identity and refills with time', async () => {
    const t = setup({ perSecond: 1, burst: 1, maxWaitMs: 0 });
    await t.budgeted.assumeRole(t.request('AK1'));
    await t.budgeted.assumeRole(t.request('AK2'));
    await expect(t.budgeted.assumeRole(t.request('AK1'))).rejects.toMatchObject({ code: 'sts.rate_limited' });
    t.advance(1_000);
    await t.budgeted.assumeRole(t.request('AK1'));
    expect(t.calls).toEqual(['AK1', 'AK2', 'AK1']);
  });
});
