/**
 * Baseline (a) of the ingest benchmark: the least a durable ingestion server can do. Checks the
 * key, parses the batch, appends every event to SQLite in one transaction per request (WAL,
 * synchronous=FULL), answers 200. No validation, no dedup, no group commit.
 * Usage: node --import tsx bench/ingest/bare-server.ts <db file> <port> <write key>
 */
import { createServer } from 'node:http';
import BetterSqlite3 from 'better-sqlite3';

const [file, portText, writeKey] = process.argv.slice(2);
if (!file || !portText || !writeKey) throw new Error('usage: bare-server.ts <db file> <port> <write key>');
const expected = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
const db = new BetterSqlite3(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, message_id TEXT, payload TEXT)');
const insert = db.prepare('INSERT INTO events (message_id, payload) VALUES (?, ?)');
const appendAll = db.transaction((items: { messageId?: string }[]) => {
  for (const item of items) insert.run(item.messageId ?? null, JSON.stringify(item));
});

const server = createServer((req, res) => {
  if (req.headers.authorization !== expected) {
    res.writeHead(401).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { batch: { messageId?: string }[] };
      appendAll(body.batch);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"success":true}');
    } catch {
      res.writeHead(400).end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(portText), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
