import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, REDACTED_PATHS } from './logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString('utf8'));
      callback();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('logger redaction list', () => {
  it('censors every listed secret field wherever a log object carries it', () => {
    const { lines, logger } = capture();
    const secret = 'S3CR3T-VALUE-that-must-not-appear';
    logger.info(
      {
        req: { headers: { authorization: `Bearer ${secret}`, cookie: secret, 'x-amz-security-token': secret } },
        res: { headers: { 'set-cookie': secret } },
        creds: { secretAccessKey: secret, SecretAccessKey: secret, sessionToken: secret, SessionToken: secret },
        login: { token: secret, password: secret },
        conn: { credentials: { accessKeyId: 'AKIDEXAMPLE', secret } },
        sts: { masterCredentials: { secretAccessKey: secret } },
      },
      'request',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(secret);
    expect(lines[0]).toContain('[redacted]');
    // Non-secret fields next to them still log.
    expect(lines[0]).toContain('"msg":"request"');
  });

  it('covers authorization headers, session tokens, secret keys, passwords and credential objects', () => {
    for (const path of [
      'req.headers.authorization',
      '*.secretAccessKey',
      '*.sessionToken',
      '*.token',
      '*.password',
      '*.credentials',
    ]) {
      expect(REDACTED_PATHS).toContain(path);
    }
  });
});
