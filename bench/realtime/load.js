// Load generator for bench/realtime (loopback only). Prints one JSON line.
//   node load.js passthrough SIDECAR UPSTREAM STREAMS EVENTS INTERVAL_MS
//     STREAMS concurrent GET-bridge passthroughs of UPSTREAM/sse?n=EVENTS; counts events per stream,
//     checks the one trailing `event: end` frame and its total_bytes, and per-event latency.
//   node load.js ws SIDECAR UPSTREAM SUBSCRIBERS JOBS
//     SUBSCRIBERS /ws clients, then JOBS async jobs (UPSTREAM/ok); each client must see every event of
//     the job event log (counted per job from /api/v1/curl/jobs/{id}/events).
'use strict';
const http = require('http');
const crypto = require('crypto');
const [mode, sidecar, upstream] = process.argv.slice(2, 5);
const args = process.argv.slice(5).map(Number);
for (const u of [sidecar, upstream]) if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(u)) { console.error('loopback only: ' + u); process.exit(2); }
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const pct = (a, p) => { if (!a.length) return null; const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };

function request(method, url, body) {
  return new Promise((resolve, reject) => {
    const r = http.request(url, { method, agent, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    r.on('error', reject);
    if (body) r.write(body);
    r.end();
  });
}

async function passthrough(streams, events, interval) {
  const target = `${sidecar}/curl?url=${encodeURIComponent(`${upstream}/sse?n=${events}&interval_ms=${interval}`)}${process.env.EXTRA_QUERY || ""}`;
  const out = { streams, events_per_stream: events, expected_events: streams * events, received_events: 0, ok_streams: 0,
    end_frames: 0, bad_total_bytes: 0, error_frames: 0, statuses: {}, errors: [] };
  const lat = [];
  const t0 = Date.now();
  await Promise.all(Array.from({ length: streams }, () => new Promise((resolve) => {
    const r = http.get(target, { agent: false }, (res) => {
      out.statuses[res.statusCode] = (out.statuses[res.statusCode] || 0) + 1;
      let buf = '', got = 0, bytes = 0, ends = 0, okTotal = false;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const now = process.hrtime.bigint();
        buf += chunk;
        let idx;
        while ((idx = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, idx + 2);
          buf = buf.slice(idx + 2);
          if (frame.startsWith('event: end\n')) {
            ends++;
            const m = /"total_bytes":(\d+)/.exec(frame);
            okTotal = !!m && Number(m[1]) === bytes;
          } else if (frame.startsWith('event: error\n')) {
            out.error_frames++;
          } else {
            bytes += Buffer.byteLength(frame);
            const m = /"t":(\d+)/.exec(frame);
            if (m) { got++; lat.push(Number(now - BigInt(m[1])) / 1e6); }
          }
        }
      });
      res.on('end', () => {
        out.received_events += got;
        out.end_frames += ends;
        if (ends === 1 && !okTotal) out.bad_total_bytes++;
        if (got === events && ends === 1 && okTotal && res.statusCode === 200) out.ok_streams++;
        resolve();
      });
      res.on('error', (e) => { out.errors.push(e.message); resolve(); });
    });
    r.on('error', (e) => { out.errors.push(e.message); resolve(); });
  })));
  out.lost_events = out.expected_events - out.received_events;
  out.wall_ms = Date.now() - t0;
  out.lat_p50_ms = pct(lat, 50); out.lat_p99_ms = pct(lat, 99); out.lat_max_ms = lat.length ? Math.max(...lat) : null;
  out.errors = out.errors.slice(0, 5);
  return out;
}

// A minimal WebSocket client: handshake, unmasked server text frames, pongs for pings.
function wsConnect(path, onText) {
  return new Promise((resolve, reject) => {
    const key = crypto.randomBytes(16).toString('base64');
    const r = http.get(`${sidecar}${path}`, { agent: false, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' } });
    r.on('upgrade', (res, socket, head) => {
      let buf = head;
      socket.on('data', (chunk) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        while (buf.length >= 2) {
          const op = buf[0] & 0x0f;
          let len = buf[1] & 0x7f, off = 2;
          if (len === 126) { if (buf.length < 4) break; len = buf.readUInt16BE(2); off = 4; }
          else if (len === 127) { if (buf.length < 10) break; len = Number(buf.readBigUInt64BE(2)); off = 10; }
          if (buf.length < off + len) break;
          const payload = buf.subarray(off, off + len);
          buf = buf.subarray(off + len);
          if (op === 1) onText(payload.toString());
          else if (op === 9) { // pong, masked with a zero key
            const f = Buffer.alloc(6 + payload.length); f[0] = 0x8a; f[1] = 0x80 | payload.length; payload.copy(f, 6); socket.write(f);
          }
        }
      });
      resolve(socket);
    });
    r.on('response', (res) => reject(new Error('no upgrade: ' + res.statusCode)));
    r.on('error', reject);
  });
}

async function ws(subscribers, jobs) {
  const counts = Array.from({ length: subscribers }, () => ({ events: 0, completed: 0, lag: 0 }));
  const sockets = [];
  for (let s = 0; s < subscribers; s++) {
    const c = counts[s];
    sockets.push(await wsConnect('/ws', (text) => {
      const m = JSON.parse(text);
      if (m.type === 'error') c.lag++; else c.events++;
      if (m.type === 'jobcompleted') c.completed++;
    }));
  }
  const t0 = Date.now();
  const ids = [];
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < jobs) {
      next++;
      const r = await request('POST', `${sidecar}/api/v1/curl/request`, JSON.stringify({ url: `${upstream}/ok`, mode: 'async' }));
      if (r.status !== 202) throw new Error('submit ' + r.status + ' ' + r.body);
      ids.push(JSON.parse(r.body).job_id);
    }
  }));
  const deadline = Date.now() + 240000;
  while (counts.some((c) => c.completed < jobs) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const deliveredMs = Date.now() - t0;
  let logged = 0;
  for (let i = 0; i < ids.length; i += 16) {
    const page = await Promise.all(ids.slice(i, i + 16).map((id) => request('GET', `${sidecar}/api/v1/curl/jobs/${id}/events?limit=1`)));
    for (const p of page) logged += JSON.parse(p.body).meta.total;
  }
  await new Promise((r) => setTimeout(r, 500)); // anything still in flight
  for (const s of sockets) s.destroy();
  const received = counts.reduce((a, c) => a + c.events, 0);
  return { subscribers, jobs, logged_events: logged, expected_deliveries: logged * subscribers, delivered: received,
    lost_events: logged * subscribers - received, lag_notices: counts.reduce((a, c) => a + c.lag, 0),
    subscribers_complete: counts.filter((c) => c.events === logged).length, wall_ms: deliveredMs };
}

(async () => {
  const result = mode === 'passthrough' ? await passthrough(args[0] || 256, args[1] || 50, args[2] ?? 10)
    : mode === 'ws' ? await ws(args[0] || 200, args[1] || 1000) : null;
  if (!result) { console.error('mode: passthrough | ws'); process.exit(2); }
  console.log(JSON.stringify(result));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
