#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createApp } from '../app.js';
import { loadConfig } from '../config/load.js';
import { RolegateError } from '../errors/errors.js';
import { serve } from '../main.js';
import { runDemo } from './demo.js';

const USAGE = `usage: rolegate <command> [options]

commands:
  serve [--config FILE]                 run the server (config from FILE, ROLEGATE_CONFIG and ROLEGATE_* variables)
  init [--config FILE] [--admin NAME]   create the first administrator and print its API token (once)
  demo [--port N] [--check]             local S3+STS, demo data and users, rolegate on localhost
  help                                  this text
`;

async function init(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, admin: { type: 'string', default: 'admin' } },
  });
  const app = await createApp({ config: loadConfig({ file: values.config }) });
  try {
    const { identity } = app.services;
    if ((await identity.countAdmins()) > 0) {
      process.stderr.write('rolegate init: an administrator already exists; create further tokens through the API\n');
      return 1;
    }
    const username = values.admin ?? 'admin';
    await identity.createUserUnchecked({ username, role: 'admin' });
    const token = await identity.createTokenUnchecked(username, 'init');
    process.stdout.write(
      `administrator "${username}" created. API token (shown once, store it safely):\n${token.token}\n`,
    );
    return 0;
  } finally {
    await app.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string' } } });
      const app = await serve({ configFile: values.config });
      app.logger.info({ addresses: app.http.addresses() }, 'rolegate listening');
      return new Promise<number>(() => {});
    }
    case 'init':
      return init(rest);
    case 'demo': {
      const { values } = parseArgs({
        args: rest,
        options: { port: { type: 'string', default: '8630' }, check: { type: 'boolean', default: false } },
      });
      const port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be a port number');
      return runDemo({ port, check: values.check ?? false, out: (line) => process.stdout.write(`${line}\n`) });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`rolegate: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message =
      error instanceof RolegateError
        ? `${error.message} [${error.code}]`
        : error instanceof Error
          ? error.message
          : String(error);
    process.stderr.write(`rolegate: ${message}\n`);
    process.exitCode = 1;
  },
);
