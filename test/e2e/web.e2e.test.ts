import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeaks, salesConnectionBody, startTestRolegate, type TestRolegate } from '../harness/rolegate.js';
import { registerText } from '../harness/secret-registry.js';

/**
 * The web UI in a real browser (Debian's Chromium driven by playwright-core) against a real rolegate over
 * the shared RGW. rolegate serves web/dist, which `npm test` builds before vitest runs.
 */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = 'test-output/screenshots';
// Without the background-networking flags Chromium keeps dialling Google on this closed network.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let rg: TestRolegate;
let context: BrowserContext;
let profileDir: string;
let gatewayUrl: string;

beforeAll(async () => {
  // Installs Debian's chromium when it is missing (about a minute, once per machine).
  await promisify(execFile)('bash', ['scripts/install-chromium.sh'], { timeout: 290_000 });
  if (!existsSync('web/dist/index.html')) throw new Error('web/dist is missing: run `npm run build:web` first');
  await mkdir(SCREENSHOTS, { recursive: true });
  rg = await startTestRolegate();
  // The S3 gateway, so that My data shows the slow-path snippets with its endpoint.
  gatewayUrl = await rg.app.gateway.listen({ host: '127.0.0.1', port: 0 });
  profileDir = await mkdtemp(join(tmpdir(), 'rolegate-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
  });
}, 300_000);

afterAll(async () => {
  await context?.close();
  registerText('browser-console', consoleLines.join('\n'));
  await rg?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

/** What the pages wrote to the browser's console, and their uncaught errors: for the secret scan. */
const consoleLines: string[] = [];

/** A new tab: sessionStorage, and so the signed-in user, is per tab. */
async function newTab(): Promise<Page> {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
  page.on('dialog', (dialog) => void dialog.accept());
  return page;
}

async function signIn(page: Page, token: string, who: string) {
  await page.goto(`${rg.url}/data`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect.poll(() => page.getByText(`Signed in as ${who}`).isVisible()).toBe(true);
}

/** A full-page screenshot; `mask` covers what must not be in a picture (a presigned URL carries a token). */
const shot = (page: Page, name: string, mask: Locator[] = []) =>
  page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, mask });

describe('web UI', () => {
  let admin: Page;

  it('serves the UI at / with a fallback for its routes, and keeps /api answers as JSON', async () => {
    const page = await fetch(`${rg.url}/connections/ui-sales`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const api = await fetch(`${rg.url}/api/nope`, { headers: { authorization: `Bearer ${rg.tokens.admin}` } });
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toContain('application/json');
    expect(await api.json()).toMatchObject({ code: 'route.not_found' });
  });

  it('signs in with the keyboard only, and shows a bad token’s code', async () => {
    admin = await newTab();
    await admin.goto(rg.url);
    await expect.poll(() => admin.getByRole('heading', { name: 'Sign in to rolegate' }).isVisible()).toBe(true);
    await shot(admin, 'sign-in');

    await admin.keyboard.press('Tab');
    expect(await admin.locator(':focus').getAttribute('name')).toBe('token');
    await admin.keyboard.type('rg_not-a-real-token');
    await admin.keyboard.press('Enter');
    await expect.poll(() => admin.locator('.error-code').textContent()).toBe('auth.invalid_token');

    await admin.keyboard.press('Tab'); // leaves the field: back to it the way a keyboard user would
    await admin.keyboard.press('Shift+Tab');
    await admin.keyboard.press('ControlOrMeta+a');
    await admin.keyboard.type(rg.tokens.admin);
    await admin.keyboard.press('Enter');
    await expect.poll(() => admin.getByText('Signed in as admin').isVisible()).toBe(true);
    expect(await admin.content()).not.toContain(rg.tokens.admin);
    // The new page's heading takes focus, so the next Tab goes on inside the page, not back at the top.
    // (Polled: the focus moves in an effect after the page rendered, later on a busy machine.)
    await expect.poll(() => admin.locator('h1:focus').count()).toBe(1);
    await admin.keyboard.press('Tab');
    await expect.poll(() => admin.locator('main a:focus').count()).toBe(1);
  });

  it('the admin creates a connection through the form, sees the API’s validation inline, and tests it', async () => {
    await admin.getByRole('link', { name: 'Connections' }).click();
    await expect.poll(() => admin.getByRole('link', { name: 's3-sales' }).isVisible()).toBe(true);
    await shot(admin, 'connections');

    await admin.getByRole('link', { name: 'New connection' }).click();
    await admin.getByLabel('Name', { exact: true }).fill('ui-sales');
    await admin.getByLabel('Description', { exact: true }).fill('Sales data, created in the web UI');
    await admin.getByLabel('Bucket', { exact: true }).fill(rg.seed.bucket);
    await admin.getByLabel('Path in bucket').fill('sales/');
    await admin.getByLabel('Region', { exact: true }).fill(rg.backend.region);
    await admin.getByLabel('S3 endpoint').fill(rg.backend.endpoint);
    await admin.getByLabel('Path-style addressing').check();
    await admin.getByLabel('Credentials mode').selectOption('assume-role');
    await admin.getByLabel('Role ARN template').fill('${adminProperty:salesRole}');
    await admin.getByLabel('Session duration (seconds)').fill('60');
    await admin.getByLabel('Allowed roles').fill('arn:aws:iam:::role/*');
    await admin.getByRole('button', { name: 'Create connection' }).click();

    const duration = admin.getByLabel('Session duration (seconds)');
    await expect.poll(() => duration.getAttribute('aria-invalid')).toBe('true');
    const error = admin.locator('.field-invalid .field-error');
    expect(await error.textContent()).toBe('must be a whole number from 900 to 43200');
    expect(await admin.locator(':focus').getAttribute('name')).toBe('durationSeconds');
    await shot(admin, 'connection-form-error');

    await duration.fill('3600');
    await admin.getByRole('button', { name: 'Create connection' }).click();
    await expect.poll(() => admin.getByText('Created ui-sales.').isVisible()).toBe(true);
    expect(new URL(admin.url()).pathname).toBe('/connections/ui-sales');

    // The test runs as the signed-in admin, who has no salesRole yet: the exact denial is shown.
    await admin.getByRole('button', { name: 'Test connection' }).click();
    const result = admin.locator('.test-result');
    await expect.poll(() => result.locator('.error-code').textContent()).toBe('template.property_missing');
    expect(await result.textContent()).toContain('admin property "salesRole" is not set for user "admin"');
  });

  it('the admin gives bob (and themself) the salesRole property, manages a token, and the test passes', async () => {
    await admin.getByRole('link', { name: 'Users & groups' }).click();
    await expect.poll(() => admin.getByRole('link', { name: 'carol', exact: true }).isVisible()).toBe(true);
    await shot(admin, 'users-and-groups');

    const setSalesRole = async (username: string) => {
      await admin.goto(`${rg.url}/users/${username}`);
      await admin.getByLabel('Property name', { exact: true }).fill('salesRole');
      await admin.getByLabel('Value', { exact: true }).fill(rg.seed.salesRoleArn);
      await admin.getByRole('button', { name: 'Set property' }).click();
      await expect.poll(() => admin.getByText(`Set salesRole for ${username}.`).isVisible()).toBe(true);
      expect(await admin.getByLabel('Value', { exact: true }).inputValue()).toBe('');
      expect(await admin.getByRole('list', { name: 'Property names' }).textContent()).toContain('salesRole');
      // Values are write-only: the page never shows one after saving.
      expect(await admin.content()).not.toContain(rg.seed.salesRoleArn);
    };
    await admin.getByRole('link', { name: 'bob', exact: true }).click();
    await expect.poll(() => admin.getByRole('heading', { name: 'User bob' }).isVisible()).toBe(true);
    await setSalesRole('bob');

    await admin.getByLabel('Token name').fill('laptop');
    await admin.getByRole('button', { name: 'Create token' }).click();
    const shown = admin.getByLabel('New token laptop');
    await expect.poll(() => shown.inputValue()).toMatch(/^rg_/);
    const issued = await shown.inputValue();
    rg.secrets.add(issued);
    await admin.getByRole('button', { name: 'Done' }).click();
    expect(await admin.content()).not.toContain(issued);
    await shot(admin, 'user');
    const row = admin.getByRole('row', { name: /laptop/ });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => admin.getByRole('row', { name: /laptop/ }).count()).toBe(0);
    expect((await rg.api(issued, 'GET', '/api/me')).status).toBe(401);

    await setSalesRole('admin');
    await admin.goto(`${rg.url}/connections/ui-sales`);
    await admin.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => admin.locator('.test-result').textContent()).toContain('Works');
    expect(await admin.locator('.test-listing').textContent()).toContain('2024/');

    // Test as another user: bob's own role session lists the root; carol has no salesRole, and the denial is exact.
    const testAs = admin.getByLabel('Test as user');
    const preview = admin.getByRole('region', { name: 'Role preview' });
    await testAs.fill('carol');
    await expect.poll(() => preview.textContent()).toContain('template.property_missing');
    await admin.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => admin.locator('.test-result .error-code').textContent()).toBe('template.property_missing');
    expect(await admin.locator('.test-result').textContent()).toContain('Denied for carol');
    await testAs.fill('bob');
    await expect.poll(() => preview.textContent()).toContain(rg.seed.salesRoleArn);
    expect(await preview.textContent()).toContain('rg-ui-sales-for-bob');
    await admin.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => admin.locator('.test-result').textContent()).toContain('Works for bob');
    expect(await admin.locator('.test-listing').textContent()).toContain('2024/');
    const tested = (await rg.api(rg.tokens.admin, 'GET', '/api/audit?action=connection.test&limit=5')).json as {
      events: Array<{ actor: string; connection: string; sessionName?: string }>;
    };
    expect(tested.events[0]).toMatchObject({
      actor: 'admin',
      connection: 'ui-sales',
      sessionName: 'rg-ui-sales-for-bob',
    });
    await shot(admin, 'connection-edit');
  });

  it('bob browses ui-sales, uploads a file with a progress bar, sees it listed and downloads it', async () => {
    const bob = await newTab();
    await signIn(bob, rg.tokens.bob, 'bob');
    await expect.poll(() => bob.getByRole('link', { name: 'ui-sales' }).isVisible()).toBe(true);
    expect(await bob.getByRole('link', { name: 'Connections' }).count()).toBe(0);
    await shot(bob, 'my-data');

    await bob.getByRole('link', { name: 'ui-sales' }).click();
    await bob.getByRole('link', { name: /2024\// }).click();
    await expect.poll(() => new URL(bob.url()).searchParams.get('prefix')).toBe('2024/');
    const breadcrumbs = bob.getByRole('navigation', { name: 'Folder' });
    expect(await breadcrumbs.textContent()).toBe('ui-sales2024');

    const body = Buffer.from('region,amount\n'.concat('emea,100\n'.repeat(40_000)));
    await bob.getByLabel(/File to upload/).setInputFiles({ name: 'ui-upload.csv', mimeType: 'text/csv', buffer: body });
    await bob.getByRole('button', { name: 'Upload', exact: true }).click();
    await expect.poll(() => bob.getByText('Uploaded 2024/ui-upload.csv').isVisible()).toBe(true);
    expect(await bob.locator('#upload-progress').getAttribute('value')).toBe('100');
    expect(await bob.locator('.progress output').textContent()).toBe('100%');
    await expect.poll(() => bob.getByRole('rowheader', { name: 'ui-upload.csv' }).isVisible()).toBe(true);
    expect(await bob.getByRole('heading', { name: 'Use it from code' }).isVisible()).toBe(true);
    await shot(bob, 'browser');

    const stored = await rg.api(rg.tokens.bob, 'GET', '/api/connections/ui-sales/object?key=2024/ui-upload.csv');
    expect(stored.status).toBe(200);
    expect(stored.text).toBe(body.toString());

    const [download] = await Promise.all([
      bob.waitForEvent('download'),
      bob.getByRole('button', { name: 'Download ui-upload.csv' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('ui-upload.csv');
    expect((await readFile(await download.path())).equals(body)).toBe(true);

    await bob.getByRole('button', { name: 'Delete ui-upload.csv' }).click();
    await expect.poll(() => bob.getByRole('rowheader', { name: 'ui-upload.csv' }).count()).toBe(0);
    expect(await bob.content()).not.toContain(rg.tokens.bob);
  });

  it('bob makes a share link (a presigned URL) where signing is allowed for him, and nowhere else', async () => {
    const created = await rg.api(
      rg.tokens.admin,
      'POST',
      '/api/connections',
      salesConnectionBody(rg, { name: 'ui-share', signingAllowedBy: 'everyone' }),
    );
    expect(created.status, created.text).toBe(201);
    const bob = await newTab();
    await signIn(bob, rg.tokens.bob, 'bob');
    await bob.goto(`${rg.url}/data/ui-sales?prefix=2024/`);
    await expect.poll(() => bob.getByRole('rowheader', { name: 'q1.csv' }).isVisible()).toBe(true);
    // The connection's rules have loaded (its bucket line shows), and they do not let bob sign here.
    await expect.poll(() => bob.getByText(`s3://${rg.seed.bucket}/sales/`).isVisible()).toBe(true);
    expect(await bob.getByRole('button', { name: /^Share link/ }).count()).toBe(0);

    await bob.goto(`${rg.url}/data/ui-share?prefix=2024/`);
    await bob.getByRole('button', { name: 'Share link q1.csv' }).click();
    await expect.poll(() => bob.getByRole('heading', { name: 'Share link for q1.csv' }).isVisible()).toBe(true);
    const url = await bob.getByLabel('Presigned URL').inputValue();
    const presigned = new URL(url);
    for (const name of ['X-Amz-Signature', 'X-Amz-Security-Token'])
      rg.secrets.add(presigned.searchParams.get(name) ?? '');
    // Straight to S3 (RGW), not through rolegate, and good for 15 minutes.
    expect(presigned.origin).toBe(new URL(rg.backend.endpoint).origin);
    expect(presigned.searchParams.get('X-Amz-Expires')).toBe('900');
    await shot(bob, 'share-link', [bob.getByLabel('Presigned URL')]);
    const fetched = await fetch(url);
    expect(fetched.status).toBe(200);
    expect(await fetched.text()).toBe(rg.seed.objects['sales/2024/q1.csv']);
    await bob.getByRole('button', { name: 'Close' }).click();
    expect(await bob.getByLabel('Presigned URL').count()).toBe(0);

    await rg.app.trail.flush();
    const audit = await rg.api(rg.tokens.admin, 'GET', '/api/audit?action=signing.presign&user=bob');
    expect(audit.status).toBe(200);
    expect((audit.json as { events: unknown[] }).events).toContainEqual(
      expect.objectContaining({ connection: 'ui-share', key: 'sales/2024/q1.csv', outcome: 'allowed' }),
    );
  });

  it('bob’s snippets: the fast path on s3-sales, the gateway with a new gateway key on ui-sales', async () => {
    const bob = await newTab();
    await signIn(bob, rg.tokens.bob, 'bob');
    const use = bob.getByRole('region', { name: 'Use from code' });
    await use.getByLabel('Connection').selectOption('s3-sales');
    const code = use.getByRole('tabpanel');
    await expect
      .poll(() => code.textContent())
      .toContain('credential_process = rolegate credentials --connection s3-sales --format process');
    await use.getByRole('tab', { name: 'rolegate exec' }).click();
    expect(await code.textContent()).toContain('rolegate exec --connection s3-sales -- python job.py');
    await use.getByRole('tab', { name: 'rolegate exec' }).press('ArrowRight'); // wraps round to the first tab
    expect(await use.getByRole('tab', { name: 'aws CLI profile' }).getAttribute('aria-selected')).toBe('true');

    // ui-sales does not hand bob credentials (details readable by nobody): the same tools through the gateway.
    await use.getByLabel('Connection').selectOption('ui-sales');
    await expect.poll(() => use.getByText('Through the S3 gateway').isVisible()).toBe(true);
    await use.getByRole('button', { name: 'Create gateway key' }).click();
    const secret = use.getByLabel(/^Secret of gateway key RG/);
    await expect.poll(() => secret.inputValue()).not.toBe('');
    const secretValue = await secret.inputValue();
    rg.secrets.add(secretValue);
    const keyId = ((await secret.getAttribute('aria-label')) ?? '').replace('Secret of gateway key ', '');
    await use.getByRole('tab', { name: 'Spark' }).click();
    const spark = (await code.textContent()) ?? '';
    expect(spark).toContain(`spark.hadoop.fs.s3a.bucket.ui-sales.endpoint=${gatewayUrl}`);
    expect(spark).toContain(`spark.hadoop.fs.s3a.bucket.ui-sales.access.key=${keyId}`);
    expect(spark).not.toContain(secretValue);
    await use.getByRole('button', { name: 'Done' }).click();
    expect(await bob.content()).not.toContain(secretValue);
    await use.getByRole('tab', { name: 'aws CLI profile' }).click();
    expect(await code.textContent()).toContain(`aws_access_key_id = ${keyId}`);
    await shot(bob, 'my-data-snippets');
    const keys = await rg.api(rg.tokens.bob, 'GET', '/api/users/bob/gateway-keys');
    expect((keys.json as Array<{ accessKeyId: string }>).map((k) => k.accessKeyId)).toContain(keyId);
  });

  it('carol sees the connections, and browsing shows the exact denial', async () => {
    const carol = await newTab();
    await signIn(carol, rg.tokens.carol, 'carol');
    await expect.poll(() => carol.getByRole('link', { name: 'ui-sales' }).isVisible()).toBe(true);
    await carol.getByRole('link', { name: 'ui-sales' }).click();
    const notice = carol.getByRole('alert').filter({ hasText: 'Cannot list' });
    await expect.poll(() => notice.locator('.error-code').textContent()).toBe('template.property_missing');
    expect(await notice.textContent()).toContain('admin property "salesRole" is not set for user "carol"');
    expect(await carol.getByRole('button', { name: 'Upload', exact: true }).count()).toBe(0);
    await shot(carol, 'denied');

    // Her own activity, denial included; the chain check, the export and other users are for admins.
    await carol.getByRole('link', { name: 'My activity' }).click();
    const own = carol.getByRole('table', { name: 'Audit events' });
    await expect.poll(() => own.getByRole('row', { name: /object\.list.*denied/ }).count()).toBeGreaterThan(0);
    expect(await own.textContent()).toContain('template.property_missing');
    expect(await own.textContent()).not.toContain('bob');
    expect(await carol.getByRole('button', { name: 'Verify chain' }).count()).toBe(0);
    expect(await carol.getByRole('form', { name: 'Search events' }).getByLabel('User', { exact: true }).count()).toBe(
      0,
    );
  });

  it('alice lists her roles, starts a session (token shown once) and is refused a role she does not have', async () => {
    const alice = await newTab();
    await signIn(alice, rg.tokens.alice, 'alice');
    await alice.getByRole('link', { name: 'Roles & sessions' }).click();
    const roles = alice.getByRole('table', { name: 'My roles' });
    await expect.poll(() => roles.textContent()).toContain(rg.seed.salesRoleArn);
    expect(await roles.getByRole('row', { name: /salesRole/ }).textContent()).toContain('property salesRole');
    expect(await roles.getByRole('row', { name: /marketingRole/ }).textContent()).toContain(rg.seed.marketingRoleArn);

    const start = alice.getByRole('form', { name: 'Start a session' });
    await start.getByLabel('Session name').fill('notebook');
    await start.getByLabel('Role').selectOption(rg.seed.marketingRoleArn);
    await start.getByRole('button', { name: 'Start session' }).click();
    const shown = alice.getByLabel('Session token notebook');
    await expect.poll(() => shown.inputValue()).toMatch(/^rgs_/);
    const token = await shown.inputValue();
    rg.secrets.add(token);
    await alice.getByRole('button', { name: 'Done' }).click();
    expect(await alice.content()).not.toContain(token);
    const sessions = alice.getByRole('table', { name: 'My sessions' });
    await expect.poll(() => sessions.textContent()).toContain(rg.seed.marketingRoleArn);

    const switcher = alice.getByRole('form', { name: 'Switch role' });
    await switcher.getByLabel('New role ARN').fill('arn:aws:iam:::role/not-hers');
    await switcher.getByRole('button', { name: 'Switch' }).click();
    const result = switcher.locator('.switch-result');
    await expect.poll(() => result.locator('.error-code').textContent()).toBe('session.role_not_entitled');
    expect(await result.textContent()).toContain('you are not entitled to this role');
    await switcher.getByLabel('New role ARN').fill(rg.seed.salesRoleArn);
    await switcher.getByRole('button', { name: 'Switch' }).click();
    await expect.poll(() => result.textContent()).toContain(`Session notebook now uses ${rg.seed.salesRoleArn}.`);
    await expect.poll(() => sessions.textContent()).toContain(rg.seed.salesRoleArn);
    await shot(alice, 'roles');
  });

  it('the audit page shows what happened above, verifies the chain, exports CSV, and explains', async () => {
    // A tab in the background gets few animation frames, and Playwright waits for frames before each click.
    await admin.bringToFront();
    await admin.getByRole('link', { name: 'Audit' }).click();
    const table = admin.getByRole('table', { name: 'Audit events' });
    await expect.poll(() => table.isVisible()).toBe(true);

    // Filters live in the URL, so a search can be reloaded and shared.
    await admin.goto(`${rg.url}/audit?action=connection.create`);
    // ui-sales through the form and ui-share through the API, both by the admin. The API's event of a create names
    // no connection (POST /api/connections has no name in its path).
    const creates = table.getByRole('row', { name: /connection\.create.*allowed/ });
    await expect.poll(() => creates.count()).toBe(2);
    for (const row of await creates.all()) expect(await row.textContent()).toContain('admin');
    await admin.goto(`${rg.url}/audit?action=property.set`);
    // Each change shows twice: requested before it was made, then how it ended.
    await expect.poll(() => table.getByRole('row', { name: /property\.set.*allowed/ }).count()).toBe(2);
    await expect.poll(() => table.getByRole('row', { name: /property\.set.*requested/ }).count()).toBe(2);

    const search = admin.getByRole('form', { name: 'Search events' });
    await search.getByLabel('User', { exact: true }).fill('bob');
    await search.getByLabel('Action', { exact: true }).fill('object.put');
    await search.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => new URL(admin.url()).search).toBe('?user=bob&action=object.put');
    const put = table.getByRole('row', { name: /2024\/ui-upload\.csv/ });
    await expect.poll(() => put.count()).toBe(1);
    expect(await put.textContent()).toContain('allowed');
    await put.getByRole('button', { name: /^Event \d+$/ }).click();
    const detail = admin.getByRole('region', { name: /^Event \d+: object\.put$/ });
    await expect.poll(() => detail.isVisible()).toBe(true);
    const fields = (await detail.textContent()) ?? '';
    for (const want of ['actorbob', 'connectionui-sales', 'key2024/ui-upload.csv', `roleArn${rg.seed.salesRoleArn}`])
      expect(fields).toContain(want);
    expect(fields).toMatch(/sessionNamerg-ui-sales-for-bob/);
    expect(fields).toMatch(/hash[0-9a-f]{64}/);
    await shot(admin, 'audit');

    await admin.getByRole('button', { name: 'Verify chain' }).click();
    await expect.poll(() => admin.locator('.verify-result').textContent()).toContain('Chain intact');
    // Every change made above ended recorded; a change whose end was lost is listed and opens as an event.
    const unfinished = admin.locator('.unfinished-result');
    await admin.getByLabel('Older than (seconds)').fill('0');
    await admin.getByRole('button', { name: 'Unfinished changes' }).click();
    await expect.poll(() => unfinished.textContent()).toContain('No unfinished changes');
    const lost = await rg.app.trail.record({
      requestId: 'req-ui-lost',
      actor: 'admin',
      action: 'mount.create',
      outcome: 'requested',
    });
    await admin.getByRole('button', { name: 'Unfinished changes' }).click();
    await expect.poll(() => unfinished.textContent()).toContain('1 change(s) never recorded as ended');
    await unfinished.getByRole('button', { name: new RegExp(`#${lost.seq} mount\\.create by admin`) }).click();
    const lostDetail = admin.getByRole('region', { name: `Event ${lost.seq}: mount.create` });
    await expect.poll(() => lostDetail.textContent()).toContain('req-ui-lost');
    expect(await lostDetail.textContent()).toContain('requested');
    const [download] = await Promise.all([
      admin.waitForEvent('download'),
      admin.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^rolegate-audit-.*\.csv$/);
    const csv = (await readFile(await download.path())).toString('utf8');
    expect(csv.split('\n')[0]).toMatch(/^seq,time,/);
    expect(csv).toContain('object.put');

    const explain = admin.getByRole('form', { name: 'Explain' });
    const result = admin.locator('.explain-result');
    await explain.getByLabel('User', { exact: true }).fill('bob');
    await explain.getByLabel('Connection', { exact: true }).fill('ui-sales');
    await explain.getByLabel('Key (optional)').fill('2024/q1.csv');
    await explain.getByRole('button', { name: 'Explain' }).click();
    await expect.poll(() => result.textContent()).toContain('Allowed: bob on ui-sales');
    const text = (await result.textContent()) ?? '';
    expect(text).toContain(`Resolved role${rg.seed.salesRoleArn}`);
    expect(text).toContain('Session namerg-ui-sales-for-bob');
    expect(text).toContain('slow path');
    expect(await result.getByRole('list', { name: 'Steps' }).textContent()).toContain(
      'usable by: user "bob" may use connection "ui-sales"',
    );
    expect(JSON.parse((await result.locator('pre.session-policy').textContent()) ?? '')).toMatchObject({
      Version: '2012-10-17',
    });
    await admin.getByRole('region', { name: 'Explain' }).screenshot({ path: join(SCREENSHOTS, 'explain.png') });

    await explain.getByLabel('User', { exact: true }).fill('carol');
    await explain.getByRole('button', { name: 'Explain' }).click();
    await expect.poll(() => result.locator('.error-code').textContent()).toBe('template.property_missing');
    expect(await result.textContent()).toContain('Denied: carol on ui-sales');
    expect(await result.locator('.step-fail').textContent()).toContain('admin property "salesRole" is not set');
    await admin.getByRole('region', { name: 'Explain' }).screenshot({ path: join(SCREENSHOTS, 'explain-denied.png') });
  });

  it('leaked nothing', () => {
    expect(findLeaks(rg, (body) => body.includes('"token":"rg_'))).toEqual([]);
  });
});
