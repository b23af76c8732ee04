import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the stub STS received: its headers, its form body, and when it arrived (`performance.now()`). */
export interface StsStubRequest {
  readonly headers: IncomingHttpHeaders;
  readonly form: URLSearchParams;
  readonly at: number;
}

/** An answer of the test's own (a throttling or failing STS, say) instead of the stub's. */
export interface StsStubAnswer {
  readonly status: number;
  readonly body: string;
}

export interface TestStsStub {
  /** `http://127.0.0.1:<port>`: a connection's `stsEndpoint`. */
  readonly url: string;
  readonly requests: StsStubRequest[];
  /** The credentials every AssumeRoleWithSAML answer carries. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A local STS for AssumeRoleWithSAML (RGW has none): records each request and answers a valid
 * `AssumeRoleWithSAMLResponse` (the shape of AWS's STS API reference) with fixed test credentials.
 * `answer`, when it returns something, answers a request instead (any action): a throttling STS, say.
 */
export async function startTestStsStub(
  options: { answer?: (request: StsStubRequest) => StsStubAnswer | undefined } = {},
): Promise<TestStsStub> {
  const requests: StsStubRequest[] = [];
  const credentials = {
    // Not AWS-shaped on purpose (no ASIA prefix), so it can never be mistaken for a real key.
    accessKeyId: 'STUBSAMLDIRECT000001',
    secretAccessKey: 'stub-saml-direct-secret-access-key-0000000',
    sessionToken: 'stub-saml-direct-session-token',
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const request = { headers: req.headers, form, at: performance.now() };
      requests.push(request);
      const own = options.answer?.(request);
      if (own !== undefined) {
        res.writeHead(own.status, { 'content-type': 'text/xml' }).end(own.body);
        return;
      }
      if (form.get('Action') !== 'AssumeRoleWithSAML') {
        res.writeHead(400, { 'content-type': 'text/xml' }).end('<ErrorResponse/>');
        return;
      }
      const roleArn = form.get('RoleArn') ?? '';
      const roleName = roleArn.split('/').pop() ?? 'role';
      const expiration = new Date(Date.now() + Number(form.get('DurationSeconds') ?? 3600) * 1000).toISOString();
      const body = `<AssumeRoleWithSAMLResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithSAMLResult>
    <Issuer>https://idp.example.com/saml</Issuer>
    <AssumedRoleUser>
      <Arn>${xmlEscape(roleArn.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/'))}/saml-user</Arn>
      <AssumedRoleId>AROASTUBSAML:${xmlEscape(roleName)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${credentials.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>
      <SessionToken>${credentials.sessionToken}</SessionToken>
      <Expiration>${expiration}</Expiration>
    </Credentials>
    <Audience>https://signin.aws.amazon.com/saml</Audience>
    <SubjectType>persistent</SubjectType>
    <NameQualifier>SbdGOnUkh1i4+EXAMPLExL/jEvs=</NameQualifier>
    <Subject>saml-user</Subject>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleWithSAMLResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleWithSAMLResponse>`;
      res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    credentials,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
