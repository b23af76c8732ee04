import { describe, expect, it } from 'vitest';
import { type CliContext, UsageError } from '../context.js';
import { loginCommand } from './login.js';

const ctx: CliContext = {
  env: {},
  stdout: () => undefined,
  stderr: () => undefined,
  client: () => Promise.reject(new Error('not used')),
  gateway: () => {
    throw new Error('not used');
  },
  selfCommand: [],
};

describe('rolegate login: option rules, refused before any request', () => {
  it.each([
    [['--device', '--url', 'http://127.0.0.1:1'], '--open, --timeout and --device need --oidc'],
    [['--oidc', '--device', '--open', '--url', 'http://127.0.0.1:1'], '--device and --open exclude each other'],
    [['--oidc', '--device', '--token', 't', '--url', 'http://127.0.0.1:1'], '--oidc and --token exclude each other'],
    [['--oidc', '--device', '--url', 'ftp://example.com'], '--url must be http(s)'],
  ])('%j', async (args, message) => {
    const refused = loginCommand(args, ctx);
    await expect(refused).rejects.toBeInstanceOf(UsageError);
    await expect(refused).rejects.toThrow(message);
  });
});
