// SSE upstream for bench/realtime (loopback only).
//   node sse-upstream.js PORT
// GET /sse?n=N&interval_ms=MS  -> text/event-stream: N events "id: i / event: tick / data: {"i":i,"t":ns}", then the end
// GET /ok                      -> 16 bytes (the jobs of the /ws workload)
'use strict';
const http = require('http');
const port = Number(process.argv[2] || 18181);
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  if (u.pathname === '/ok') { res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 16 }); res.end('0123456789abcdef'); return; }
  if (u.pathname !== '/sse') { res.statusCode = 404; res.end(); return; }
  const n = Math.max(0, Math.min(Number(u.searchParams.get('n') ?? 50), 100000));
  const interval = Math.max(0, Number(u.searchParams.get('interval_ms') ?? 10));
  req.socket.setNoDelay(true);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  let i = 0, timer = null;
  const tick = () => {
    if (res.destroyed || res.writableEnded) return;
    if (i >= n) { res.end(); return; }
    res.write(`id: ${i}\nevent: tick\ndata: {"i":${i},"t":${process.hrtime.bigint()}}\n\n`);
    i++;
    timer = setTimeout(tick, interval);
  };
  res.on('close', () => { if (timer) clearTimeout(timer); });
  tick();
});
server.keepAliveTimeout = 65000;
server.listen(port, '127.0.0.1', () => console.log(`sse-upstream on 127.0.0.1:${port}`));
const stop = () => { server.close(); setTimeout(() => process.exit(0), 200).unref(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
