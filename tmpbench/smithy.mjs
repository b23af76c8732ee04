import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
class Sha256 { constructor(s) { this.h = s === undefined ? createHash('sha256') : createHmac('sha256', typeof s === 'string' ? s : Buffer.from(s)); } update(d) { this.h.update(typeof d === 'string' ? d : Buffer.from(d.buffer ?? d, d.byteOffset, d.byteLength)); } async digest() { return new Uint8Array(this.h.digest()); } reset() {} }
const signer = new SignatureV4({ credentials: { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'T'.repeat(600) }, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
const req = () => ({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 8000, path: '/bench-signing/sales/bench/4096.bin', query: {}, headers: { host: '127.0.0.1:8000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
for (let r = 0; r < 3; r++) { const N = 20000; const c0 = process.cpuUsage(); for (let i = 0; i < N; i++) await signer.sign(req(), { signingDate: new Date() }); const c = process.cpuUsage(c0); console.log('smithy sign', ((c.user + c.system) / N).toFixed(1), 'µs CPU'); }
