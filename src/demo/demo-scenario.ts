import type { Services } from '../app.js';
import type { Principal } from '../domain/model.js';
import type { BackendFacts } from './local-backend.js';
import type { DemoSeed } from './seed.js';

export interface DemoTokens {
  readonly admin: string;
  readonly alice: string;
  readonly bob: string;
  readonly carol: string;
}

export interface DemoScenarioOptions {
  /** Prefix for usernames and connection names, so tests can provision the scenario more than once. */
  readonly namePrefix?: string;
}

/**
 * The demo's rolegate side: an admin; alice (salesRole + marketingRole), bob (salesRole only) and carol
 * (no properties); connections `s3-sales` and `s3-marketing` whose role ARN comes from the user's admin
 * property. Everything goes through the services, exactly as API calls would.
 */
export async function provisionDemo(
  services: Services,
  backend: Pick<BackendFacts, 'endpoint' | 'region'>,
  seed: DemoSeed,
  options: DemoScenarioOptions = {},
): Promise<DemoTokens> {
  const p = options.namePrefix ?? '';
  const { identity, connections } = services;
  await identity.createUserUnchecked({ username: `${p}admin`, role: 'admin' });
  const adminToken = await identity.createTokenUnchecked(`${p}admin`, 'demo');
  const admin: Principal = await identity.authenticate(adminToken.token);

  for (const name of ['alice', 'bob', 'carol'])
    await identity.createUser(admin, { username: `${p}${name}`, role: 'analyst' });
  await identity.setProperty(admin, `${p}alice`, 'salesRole', seed.salesRoleArn);
  await identity.setProperty(admin, `${p}alice`, 'marketingRole', seed.marketingRoleArn);
  await identity.setProperty(admin, `${p}bob`, 'salesRole', seed.salesRoleArn);

  const common = {
    description: '',
    bucket: seed.bucket,
    region: backend.region,
    endpoint: backend.endpoint,
    forcePathStyle: true,
    useBucketRegion: false,
    readOnly: false,
    usableBy: 'everyone' as const,
    allowedRoles: ['arn:aws:iam:::role/*'],
  };
  await connections.create(admin, {
    ...common,
    name: `${p}s3-sales`,
    description: 'Sales data, read with the sales role of each user',
    path: 'sales/',
    credentials: {
      mode: 'assume-role',
      roleArn: '${adminProperty:salesRole}',
      durationSeconds: 3600,
      master: 'environment',
    },
    detailsReadableBy: 'everyone',
  });
  await connections.create(admin, {
    ...common,
    name: `${p}s3-marketing`,
    description: 'Marketing data, read with the marketing role of each user',
    path: 'marketing/',
    credentials: {
      mode: 'assume-role',
      roleArn: '${adminProperty:marketingRole}',
      durationSeconds: 3600,
      master: 'environment',
    },
    detailsReadableBy: 'nobody',
  });

  const token = async (name: string) => (await identity.createToken(admin, `${p}${name}`, { name: 'demo' })).token;
  return { admin: adminToken.token, alice: await token('alice'), bob: await token('bob'), carol: await token('carol') };
}
