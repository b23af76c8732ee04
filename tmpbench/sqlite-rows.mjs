import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const Database = createRequire(import.meta.url)('better-sqlite3');
const variants = process.env.ONLY ? { all: ['create index t on e (time)', 'create index a on e (actor, seq)', 'create index c on e (connection, seq)'] } : {
  all: ['create index t on e (time)', 'create index a on e (actor, seq)', 'create index c on e (connection, seq)'],
  noTime: ['create index a on e (actor, seq)', 'create index c on e (connection, seq)'],
  none: [],
};
const batch = Number(process.argv[2] ?? 6);
for (const [name, idx] of Object.entries(variants)) for (const idUnique of [true]) {
  const dir = mkdtempSync(join(tmpdir(), 'sq-'));
  const db = new Database(join(dir, 'db'));
  db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL'); if (process.env.NOCKPT) db.pragma('wal_autocheckpoint = 0');
  db.exec(`create table e (seq integer primary key, id text not null ${idUnique ? 'unique' : ''}, time text not null, actor text, action text not null, connection text, outcome text not null, session_name text, object_key text, event text not null, prev_hash text not null, hash text not null)`);
  for (const i of idx) db.exec(i);
  const ins = db.prepare('insert into e values (@seq, @id, @time, @actor, @action, @connection, @outcome, @session_name, @object_key, @event, @prev_hash, @hash)');
  const all = db.transaction((rows) => { for (const r of rows) ins.run(r); });
  const ev = JSON.stringify({ accessKeyId: 'ABCDEFGHIJKLMNOP', action: 'credentials.issue', actor: 'alice', authMethod: 'token', bucket: 'datalake', connection: 's3-sales', durationMs: 0, key: 'sales/', outcome: 'allowed', requestId: '0192e3a4-7b1c-7def-8abc-0123456789ab', roleArn: 'arn:aws:iam:::role/sales-role', sessionName: 'rg-s3-sales-for-alice', sourceIp: '127.0.0.1', time: '2026-12-03T09:00:00.000Z', id: 'x'.repeat(36) });
  let seq = 0;
  const N = 60000;
  const c0 = process.cpuUsage(); const t0 = performance.now();
  for (let b = 0; b < N / batch; b++) {
    const rows = [];
    for (let k = 0; k < batch; k++) { seq++; const now = 1764750000000 + seq; rows.push({ seq, id: `${now.toString(16).padStart(12, '0')}-7000-8000-${String(seq).padStart(12, '0')}`, time: new Date(now).toISOString(), actor: 'alice', action: 'credentials.issue', connection: 's3-sales', outcome: 'allowed', session_name: 'rg-s3-sales-for-alice', object_key: 'sales/', event: ev, prev_hash: 'a'.repeat(64), hash: 'b'.repeat(64) }); }
    all(rows);
  }
  const cpu = process.cpuUsage(c0);
  console.log(`${name} batch ${batch}: ${((cpu.user + cpu.system) / N).toFixed(1)} µs CPU/row (user ${(cpu.user / N).toFixed(1)} sys ${(cpu.system / N).toFixed(1)}), ${((performance.now() - t0) * 1000 / N).toFixed(1)} µs wall/row`);
  db.close();
}
