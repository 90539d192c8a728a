// A minimal loopback upstream for bench/channel: GET /bytes/N answers N bytes with a Content-Length.
'use strict';
const http = require('http');
const block = Buffer.alloc(1 << 20, 0x61);
http.createServer((req, res) => {
  const m = /^\/bytes\/(\d+)/.exec(req.url);
  if (!m) { res.writeHead(req.url === '/ok' ? 200 : 404); res.end(); return; }
  let left = Number(m[1]);
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
  const pump = () => { while (left > 0) { const n = Math.min(left, block.length); left -= n; if (!res.write(n === block.length ? block : block.subarray(0, n))) { res.once('drain', pump); return; } } res.end(); };
  pump();
}).listen(Number(process.argv[2]), '127.0.0.1');
