// Load generator for bench/channel (loopback only, Node 20 with --experimental-websocket). One JSON line per run.
//   node load.js fanout  SIDECAR UPSTREAM SOCKETS STREAMS      STREAMS 1 KiB GETs spread over SOCKETS channel sockets
//   node load.js rate    SIDECAR UPSTREAM CONCURRENCY SECONDS  1 KiB GETs: one channel socket vs the REST GET bridge
//   node load.js big     SIDECAR UPSTREAM MIB [REPS]           one MIB body over a binary channel vs the transparent relay, REPS (3) times each
'use strict';
const http = require('http');
const [mode, sidecar, upstream] = process.argv.slice(2, 5);
const args = process.argv.slice(5).map(Number);
for (const u of [sidecar, upstream]) if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(u)) { console.error('loopback only: ' + u); process.exit(2); }
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

function open(query) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(sidecar.replace('http', 'ws') + '/api/v1/curl/channel' + query);
    ws.binaryType = 'arraybuffer';
    const pending = new Map();
    let hello = false;
    ws.onmessage = (m) => {
      if (typeof m.data !== 'string') { const v = new DataView(m.data); const id = Number(v.getBigUint64(8, true)); const p = pending.get(id); if (p) p.bytes += m.data.byteLength - 16; return; }
      const f = JSON.parse(m.data);
      if (f.type === 'hello') { hello = true; resolve(api); return; }
      const p = pending.get(f.stream_id);
      if (!p) return;
      if (f.type === 'response.body') p.bytes += Buffer.from(f.data, 'base64').length;
      else if (f.type === 'response.end') { pending.delete(f.stream_id); p.resolve(p.bytes); }
      else if (f.type === 'error' || f.type === 'cancelled') { pending.delete(f.stream_id); p.reject(new Error(f.error_type || f.type)); }
    };
    ws.onerror = (e) => { if (!hello) reject(e); for (const p of pending.values()) p.reject(new Error('socket')); };
    let next = 1;
    const api = {
      get(url) { return new Promise((res, rej) => { const id = next++; pending.set(id, { bytes: 0, resolve: res, reject: rej }); ws.send(JSON.stringify({ type: 'request.start', stream_id: id, request: { url } })); }); },
      close() { ws.close(); },
    };
  });
}

function restGet(url) {
  return new Promise((resolve, reject) => {
    http.get(sidecar + '/api/v1/curl/request?response=transparent&url=' + encodeURIComponent(url), { agent }, (res) => {
      let n = 0; res.on('data', (c) => { n += c.length; }); res.on('end', () => res.statusCode === 200 ? resolve(n) : reject(new Error('status ' + res.statusCode)));
    }).on('error', reject);
  });
}

async function loop(concurrency, seconds, one) {
  let ok = 0, errors = 0; const end = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (Date.now() < end) { try { await one(); ok++; } catch { errors++; } } }));
  return { ok, errors, rps: Math.round(ok / seconds) };
}

(async () => {
  if (mode === 'fanout') {
    const [sockets, streams] = args;
    const chans = await Promise.all(Array.from({ length: sockets }, () => open('?max_concurrent_streams=128&max_queue=4096')));
    const t0 = Date.now(); let ok = 0, bad = 0, errors = 0;
    await Promise.all(Array.from({ length: streams }, (_, i) => chans[i % sockets].get(upstream + '/bytes/1024').then((n) => { n === 1024 ? ok++ : bad++; }, () => { errors++; })));
    console.log(JSON.stringify({ sockets, streams, ok, bad_bodies: bad, errors, wall_ms: Date.now() - t0 }));
    chans.forEach((c) => c.close());
  } else if (mode === 'rate') {
    const [concurrency, seconds] = args;
    const ch = await open('?max_concurrent_streams=128');
    const channel = await loop(concurrency, seconds, () => ch.get(upstream + '/bytes/1024'));
    ch.close();
    const rest = await loop(concurrency, seconds, () => restGet(upstream + '/bytes/1024'));
    console.log(JSON.stringify({ concurrency, seconds, channel, rest, ratio: +(channel.rps / Math.max(1, rest.rps)).toFixed(2) }));
  } else if (mode === 'big') {
    // REPS alternating pairs (channel, then relay) of one MIB body each; the ratio is of the medians, so one
    // transfer slowed by a neighbour on a shared machine does not decide the cell.
    const [mib, reps = 3] = args; const url = upstream + '/bytes/' + mib * 1048576;
    const mbps = (n, ms) => +(n / 1048576 / (ms / 1000)).toFixed(1);
    const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
    const chRuns = [], relayRuns = []; let bytesOk = true;
    for (let i = 0; i < reps; i++) {
      const ch = await open('?binary=true&chunk_bytes=1048576');
      let t0 = Date.now(); const n1 = await ch.get(url); chRuns.push(mbps(n1, Date.now() - t0)); ch.close();
      t0 = Date.now(); const n2 = await restGet(url); relayRuns.push(mbps(n2, Date.now() - t0));
      bytesOk = bytesOk && n1 === mib * 1048576 && n2 === mib * 1048576;
    }
    console.log(JSON.stringify({ mib, reps, bytes_ok: bytesOk, channel_mib_s: chRuns, relay_mib_s: relayRuns, ratio: +(median(chRuns) / median(relayRuns)).toFixed(2) }));
  }
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
