#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { RolegateError } from '../errors/errors.js';
import { ApiError } from './api-client.js';
import { ClientConfigError } from './client-config.js';
import { AUDIT_USAGE, auditCommand } from './commands/audit.js';
import { AWS_CONFIG_USAGE, awsConfigCommand } from './commands/aws-config.js';
import { CATALOG_USAGE, catalogCommand } from './commands/catalog.js';
import { APPLY_USAGE, applyCommand, EXPORT_USAGE, exportCommand } from './commands/config.js';
import { CREDENTIALS_USAGE, credentialsCommand } from './commands/credentials.js';
import { DATASETS_USAGE, datasetsCommand } from './commands/datasets.js';
import { EXEC_USAGE, execCommand } from './commands/exec.js';
import { EXPLAIN_USAGE, explainCommand } from './commands/explain.js';
import { GATEWAY_KEYS_USAGE, gatewayKeysCommand } from './commands/gateway-keys.js';
import { LOGIN_USAGE, loginCommand } from './commands/login.js';
import { PRESIGN_USAGE, presignCommand } from './commands/presign.js';
import { REVOKE_USAGE, revokeCommand } from './commands/revoke.js';
import { ASSUME_USAGE, assumeCommand, ROLES_USAGE, rolesCommand } from './commands/roles.js';
import { SPARK_CONF_USAGE, sparkConfCommand } from './commands/spark-conf.js';
import { type CliContext, processContext, UsageError } from './context.js';

// Server commands load the server lazily: client commands (credential_process runs one per refresh) start fast.
const USAGE = `usage: rolegate <command> [options]

commands:
  serve [--config FILE]                 run the server (config from FILE, ROLEGATE_CONFIG and ROLEGATE_* variables)
  init [--config FILE] [--admin NAME]   create the first administrator and print its API token (once)
  demo [--port N] [--check]             local S3+STS, demo data and users, rolegate on localhost
  login --url URL --token T             remember rolegate's URL and your API token (~/.config/rolegate)
  login --oidc [--url URL] [--open]     sign in with your identity provider (browser; loopback redirect)
  login --oidc --device [--url URL]     the same from a machine without a browser (a code to enter elsewhere)
  credentials --connection C [--format process|env|json|iceberg|uc] [--prefix P] [--read-only] [--duration S]
                                        temporary credentials for one connection
  aws-config [--write]                  ~/.aws/config profiles (credential_process) for your connections
  exec --connection C -- CMD...         run CMD with credentials that refresh by themselves
  spark-conf --connection C [--connection D ...] [--refreshing]
                                        per-bucket Spark/Hadoop S3A settings
  revoke --connection C [--user U]      make already issued credentials stop working
  presign --connection C --key K [--put] [--expires S]
                                        a presigned URL for one object, signed with your role session
  roles                                 the roles you may assume, and where each comes from
  assume ROLE                           start a session with ROLE: eval "$(rolegate assume ROLE)"
  gateway-keys create|list|revoke       keys for the S3 gateway
  audit verify|export|search            the audit trail: chain check, export, search
  datasets create|list|describe|delete|write|read
                                        managed datasets (PROJECT.NAME): metadata, atomic writes, reads
  catalog bind|unbind|databases|tables  a connection's catalog (internal or AWS Glue) and its explorer
  explain --user U --connection C [--key K] [--write]
                                        the whole access decision, without touching S3
  apply -f FILE [--dry-run]             config as code: declare groups, users, connections, mounts
  export [-o FILE]                      the current state in the format apply reads
  help [COMMAND]                        this text, or a command's
`;

/** Client commands: they talk to a running rolegate through its REST API. */
const CLIENT_COMMANDS: Record<string, { run: (args: string[], ctx: CliContext) => Promise<number>; usage: string }> = {
  login: { run: loginCommand, usage: LOGIN_USAGE },
  credentials: { run: credentialsCommand, usage: CREDENTIALS_USAGE },
  'aws-config': { run: awsConfigCommand, usage: AWS_CONFIG_USAGE },
  exec: { run: execCommand, usage: EXEC_USAGE },
  'spark-conf': { run: sparkConfCommand, usage: SPARK_CONF_USAGE },
  revoke: { run: revokeCommand, usage: REVOKE_USAGE },
  presign: { run: presignCommand, usage: PRESIGN_USAGE },
  roles: { run: rolesCommand, usage: ROLES_USAGE },
  assume: { run: assumeCommand, usage: ASSUME_USAGE },
  'gateway-keys': { run: gatewayKeysCommand, usage: GATEWAY_KEYS_USAGE },
  audit: { run: auditCommand, usage: AUDIT_USAGE },
  explain: { run: explainCommand, usage: EXPLAIN_USAGE },
  apply: { run: applyCommand, usage: APPLY_USAGE },
  export: { run: exportCommand, usage: EXPORT_USAGE },
  datasets: { run: datasetsCommand, usage: DATASETS_USAGE },
  catalog: { run: catalogCommand, usage: CATALOG_USAGE },
};

async function clientCommand(name: string, args: string[]): Promise<number> {
  const command = CLIENT_COMMANDS[name];
  if (command === undefined) throw new Error(`no command ${name}`);
  if (args[0] === '--help' || args[0] === '-h') {
    process.stdout.write(command.usage);
    return 0;
  }
  try {
    return await command.run(args, processContext());
  } catch (e) {
    // parseArgs reports unknown options and missing values with a code; both are usage mistakes.
    const code = (e as { code?: unknown }).code;
    if (e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`rolegate ${name}: ${(e as Error).message}\n${command.usage}`);
      return 2;
    }
    if (e instanceof ApiError || e instanceof ClientConfigError) {
      const suffix = e instanceof ApiError ? ` [${e.code}]` : '';
      process.stderr.write(`rolegate ${name}: ${e.message}${suffix}\n`);
      return 1;
    }
    throw e;
  }
}

async function init(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, admin: { type: 'string', default: 'admin' } },
  });
  const [{ createApp }, { loadConfig }] = await Promise.all([import('../app.js'), import('../config/load.js')]);
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
      const { serve } = await import('../main.js');
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
      const { runDemo } = await import('./demo.js');
      return runDemo({ port, check: values.check ?? false, out: (line) => process.stdout.write(`${line}\n`) });
    }
    case 'help':
      {
        const about = rest[0] === undefined ? undefined : CLIENT_COMMANDS[rest[0]];
        if (about !== undefined) {
          process.stdout.write(about.usage);
          return 0;
        }
      }
      process.stdout.write(USAGE);
      return 0;
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      if (Object.hasOwn(CLIENT_COMMANDS, command)) return clientCommand(command, rest);
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
