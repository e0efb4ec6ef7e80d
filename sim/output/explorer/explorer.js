// The ctsim explorer's script (docs/EXPLORER.md): plain JavaScript, no
// library, nothing fetched. It reads the run's log (the JSON in
// #run-data, written by sim/output/html_writer.cc), rebuilds the state of
// the table, the lists and the counters at the chosen record by replaying
// the log, and draws every view for that moment.
//
// The log's streams are sorted by record; the state at record r is what
// every entry with rec <= r left. Moving forward applies the entries in
// between; moving backward replays from the start (cheap: a few hundred
// thousand small steps at most). Opening is what costs for a big run
// (docs/EXPLORER.md, "Big runs"): the log is read once into typed arrays,
// indexed by lane and by record, and no object is made per record.
'use strict';

// When each phase of opening ended (ms since navigation start), for the
// page's load-time figure (docs/EXPLORER.md, "Big runs").
const timings = { script: Math.round(performance.now()) };
const mark = (what) => { timings[what] = Math.round(performance.now()); };

// Errors and console.error end up in the page's test state, so a test that
// reads the DOM sees them (the page never fails silently).
const pageErrors = [];
window.addEventListener('error', (e) => pageErrors.push(String(e.message)));
{
  const original = console.error.bind(console);
  console.error = (...args) => { pageErrors.push(args.map(String).join(' ')); original(...args); };
}

// Names of the record kinds, stages and lists, as html_writer.cc numbers them.
const KINDS = ['pkt', 'hook', 'lookup', 'new', 'confirm', 'update', 'invalid', 'drop', 'clash', 'dying',
  'destroy', 'free', 'gc', 'ecache', 'verdict', 'nat', 'event', 'read', 'action', 'done'];
const K = Object.fromEntries(KINDS.map((k, i) => [k, i]));
const STAGES = ['unconfirmed', 'confirmed', 'dying', 'freed'];
const LISTS = ['no list', 'unconfirmed list', 'the table', 'dying list'];
const STAT_FIELDS = ['found', 'invalid', 'insert', 'insert_failed', 'drop', 'early_drop', 'error',
  'search_restart', 'clash_resolve', 'chaintoolong'];
const DEATHS = ['timeout', 'gc', 'flush', 'delete', 'early_drop', 'netns', 'tracker', 'clash'];
const LANE_H = 16;            // pixels per conn lane
const MAX_BUCKETS_SHOWN = 48; // the table view shows at most this many chains
const MAX_CHIPS = 60;         // a list shows at most this many conns

const $ = (id) => document.getElementById(id);

// ---- Inflate (RFC 1951, raw deflate), for the embedded data. ----
// The run's log is deflated and base64-encoded by the writer (a 10,000-conn
// run's log is about 5 times smaller so). The browsers' own inflater
// (DecompressionStream) answers only asynchronously, after the page's load
// event, when tests and screenshots read the page; this one is synchronous,
// so the page is ready when its script ends. It is a canonical-Huffman
// decoder (as zlib's puff.c describes the format) written for speed: the
// bit buffer in local variables of the hot loop, and each code decoded by one
// look-up in a table indexed by the next bits of the stream (as many bits
// as the code's longest code). It takes about 1.5 times zlib's own time.
const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195,
  227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
  4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
// The look-up table of a canonical Huffman code given its code lengths:
// indexed by the next `bits` bits of the stream (codes are sent most
// significant bit first, so an index is a code reversed and followed by
// any bits), an entry is symbol << 4 | code length; 0 where no code fits
// (a lengths list that is not a complete code: a broken stream).
function huffmanTable(lengths) {
  const counts = new Uint16Array(16), next = new Uint16Array(16);
  let bits = 0;
  for (const l of lengths) { counts[l]++; if (l > bits) bits = l; }
  counts[0] = 0;
  for (let len = 1, code = 0; len < 16; len++) { code = (code + counts[len - 1]) << 1; next[len] = code; }
  const table = new Uint32Array(1 << bits);
  for (let sym = 0; sym < lengths.length; sym++) {
    const len = lengths[sym];
    if (!len) continue;
    const code = next[len]++;
    let rev = 0;
    for (let b = 0; b < len; b++) rev |= ((code >> b) & 1) << (len - 1 - b);
    for (let j = rev; j < table.length; j += 1 << len) table[j] = (sym << 4) | len;
  }
  return { table, mask: (1 << bits) - 1 };
}
let fixedCodes = null;  // the fixed codes of block type 1, made once
// The bit reader of the block headers: `cnt` bits in `buf`, the stream's
// next bit lowest, read from src at `pos` (past its end: zeros).
class Bits {
  constructor(src) { this.src = src; this.pos = 0; this.buf = 0; this.cnt = 0; }
  take(n) {
    while (this.cnt < n) { this.buf |= (this.src[this.pos++] | 0) << this.cnt; this.cnt += 8; }
    const v = this.buf & ((1 << n) - 1);
    this.buf >>>= n; this.cnt -= n;
    return v;
  }
  // The next symbol of a code made by huffmanTable.
  decode(code) {
    while (this.cnt < 24) { this.buf |= (this.src[this.pos++] | 0) << this.cnt; this.cnt += 8; }
    const e = code.table[this.buf & code.mask];
    if (!(e & 15)) throw this.broken('a bad code');
    this.buf >>>= e & 15; this.cnt -= e & 15;
    return e >> 4;
  }
  broken(what) { return new Error(`inflate: ${what} at byte ${this.pos} of ${this.src.length}`); }
}
function inflate(src, outLen) {
  const out = new Uint8Array(outLen);
  const bits = new Bits(src);
  let op = 0;
  for (let last = 0; !last;) {
    last = bits.take(1);
    const type = bits.take(2);
    if (type === 0) {  // stored: byte-aligned LEN and NLEN, then the bytes
      bits.take(bits.cnt & 7);
      bits.pos -= bits.cnt >> 3;  // whole bytes read ahead go back
      bits.buf = 0; bits.cnt = 0;
      const len = src[bits.pos] | (src[bits.pos + 1] << 8);
      bits.pos += 4;
      if (op + len > outLen) throw bits.broken('a stored block past the inflated size');
      out.set(src.subarray(bits.pos, bits.pos + len), op);
      bits.pos += len; op += len;
      continue;
    }
    let lit, dist;
    if (type === 1) {
      if (!fixedCodes) {
        const l = new Uint8Array(288);
        l.fill(8, 0, 144); l.fill(9, 144, 256); l.fill(7, 256, 280); l.fill(8, 280, 288);
        fixedCodes = [huffmanTable(l), huffmanTable(new Uint8Array(30).fill(5))];
      }
      [lit, dist] = fixedCodes;
    } else if (type === 2) {
      const nlen = bits.take(5) + 257, ndist = bits.take(5) + 1, ncode = bits.take(4) + 4;
      const cl = new Uint8Array(19);
      for (let i = 0; i < ncode; i++) cl[CODE_LENGTH_ORDER[i]] = bits.take(3);
      const clCode = huffmanTable(cl);
      const lengths = new Uint8Array(nlen + ndist);
      for (let i = 0; i < nlen + ndist;) {
        const sym = bits.decode(clCode);
        if (sym < 16) { lengths[i++] = sym; continue; }
        let rep, val = 0;
        if (sym === 16) { val = lengths[i - 1]; rep = 3 + bits.take(2); }
        else if (sym === 17) rep = 3 + bits.take(3);
        else rep = 11 + bits.take(7);
        lengths.fill(val, i, i + rep);
        i += rep;
      }
      lit = huffmanTable(lengths.subarray(0, nlen));
      dist = huffmanTable(lengths.subarray(nlen));
    } else {
      throw bits.broken('a bad block type');
    }
    op = inflateBlock(bits, out, op, lit, dist);
  }
  if (op !== outLen) throw new Error(`inflate: ${op} bytes, not ${outLen}`);
  return out;
}
// A block's symbols, written at out[op...]; returns the new op. The hot
// loop: the reader's state is copied into locals (registers) for it, the
// refills written out; they keep 24 bits or more (at most 31) in the
// buffer, enough for any one code or its extra bits.
function inflateBlock(bits, out, op, lit, dist) {
  const src = bits.src, outLen = out.length;
  const litTable = lit.table, litMask = lit.mask, distTable = dist.table, distMask = dist.mask;
  let pos = bits.pos, buf = bits.buf, cnt = bits.cnt;
  for (;;) {
    while (cnt < 24) { buf |= (src[pos++] | 0) << cnt; cnt += 8; }
    const e = litTable[buf & litMask];
    const elen = e & 15;
    if (!elen) { bits.pos = pos; throw bits.broken('a bad literal/length code'); }
    buf >>>= elen; cnt -= elen;
    let sym = e >> 4;
    if (sym < 256) { out[op++] = sym; continue; }
    if (sym === 256) break;
    sym -= 257;
    let len = LEN_BASE[sym];
    const lx = LEN_EXTRA[sym];
    if (lx) { len += buf & ((1 << lx) - 1); buf >>>= lx; cnt -= lx; }
    while (cnt < 24) { buf |= (src[pos++] | 0) << cnt; cnt += 8; }
    const d = distTable[buf & distMask];
    const dlen = d & 15;
    if (!dlen) { bits.pos = pos; throw bits.broken('a bad distance code'); }
    buf >>>= dlen; cnt -= dlen;
    const ds = d >> 4;
    let back = DIST_BASE[ds];
    const dx = DIST_EXTRA[ds];
    if (dx) {
      while (cnt < 24) { buf |= (src[pos++] | 0) << cnt; cnt += 8; }
      back += buf & ((1 << dx) - 1); buf >>>= dx; cnt -= dx;
    }
    if (back > op || op + len > outLen) { bits.pos = pos; throw bits.broken('a match outside the inflated bytes'); }
    for (const end = op + len; op < end; op++) out[op] = out[op - back];
  }
  bits.pos = pos; bits.buf = buf; bits.cnt = cnt;
  return op;
}
// The bytes of an embedded, deflated, base64-encoded element (the browser's
// own base64 decoder where it has one: Uint8Array.fromBase64, Chromium 140+).
function embedded(id) {
  const el = $(id);
  const b64 = el.textContent.trim();
  let bytes;
  if (Uint8Array.fromBase64) {
    bytes = Uint8Array.fromBase64(b64);
  } else {
    const raw = atob(b64);
    bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  }
  return inflate(bytes, parseInt(el.dataset.size, 10));
}
// How the page holds each integer array of the log: Int32Array for ids,
// kinds, arguments, text indices, narrative offsets (within the kept 1
// MiB), list lengths, node codes and counts, all far below 2^31;
// Float64Array (exact to 2^53) for times in ns, counters and anything not
// named here. `sum`: the writer wrote the array as differences from the
// previous value (the page keeps the running sum: the values themselves).
const ARRAYS = {
  'rec.t': { sum: true }, 'rec.k': { int: true }, 'rec.c': { int: true, sum: true },
  'rec.p': { int: true, sum: true }, 'rec.a': { int: true }, 'rec.x': { int: true }, 'rec.b': { int: true, sum: true },
  states: { int: true }, chains: { int: true }, walks: { int: true }, counts: { int: true },
};
// Decodes out.length zigzag LEB128 varints from bytes at `at` into `out`;
// returns where the next array starts. Integer operations up to 28 bits (4
// bytes, nearly every number), arithmetic beyond (exact to 2^53). The loop
// is kept free of per-array choices (a running sum is a second loop): it
// runs once per page, so it should not have to be compiled again for each
// array.
function varints(bytes, at, out) {
  for (let i = 0, n = out.length; i < n; i++) {
    let z = bytes[at++];
    if (z >= 0x80) {
      z &= 0x7f;
      let shift = 7, b;
      do { b = bytes[at++]; z |= (b & 0x7f) << shift; shift += 7; } while (b >= 0x80 && shift < 28);
      for (let scale = 2 ** 28; b >= 0x80; scale *= 128) { b = bytes[at++]; z += (b & 0x7f) * scale; }
    }
    out[i] = z <= 0x3fffffff ? (z >>> 1) ^ -(z & 1) : z % 2 ? -(z + 1) / 2 : z / 2;
  }
  return at;
}
// The log: the JSON, then its integer arrays from the packed numbers (zigzag
// LEB128 varints, arrays one after another as D.numbers lists them), each
// put where its name says ("rec.t" is D.rec.t).
function loadData() {
  const data = JSON.parse(new TextDecoder().decode(embedded('run-data')));
  mark('json');
  const bytes = embedded('run-numbers');
  mark('inflate');
  let at = 0;
  data.rec = {};
  for (const [name, count] of data.numbers) {
    const how = ARRAYS[name] || {};
    const values = how.int ? new Int32Array(count) : new Float64Array(count);
    at = varints(bytes, at, values);
    if (how.sum) for (let i = 1; i < count; i++) values[i] += values[i - 1];
    const path = name.split('.');
    if (path.length === 2) data[path[0]][path[1]] = values; else data[name] = values;
  }
  if (at !== bytes.length) throw new Error('the packed numbers do not match their index');
  return data;
}
const D = loadData();
mark('data');
const text = (i) => D.texts[i];

// ---- The records: one column per field, typed arrays. ----
const R = D.rec;
const N = R.k.length;
const recT = R.t, recP = R.p, recB = R.b, recC = R.c;  // absolute (summed as decoded)
// Indices of the entries of a stream (a flat array of entries that start
// with their record as the difference from the previous entry's, which is
// made absolute here); `length(i)`: the size of the entry at i.
function entries(flat, length) {
  let n = 0;
  for (let i = 0; i < flat.length; i += length(i)) n++;
  const starts = new Int32Array(n);
  for (let i = 0, e = 0, rec = 0; i < flat.length; i += length(i)) { rec += flat[i]; flat[i] = rec; starts[e++] = i; }
  return starts;
}
const stateStarts = entries(D.states, () => 7);
const chainStarts = entries(D.chains, (i) => 3 + D.chains[i + 2]);
const walkStarts = entries(D.walks, (i) => 4 + D.walks[i + 3]);
const statStarts = entries(D.stats, () => 5);
const countStarts = entries(D.counts, () => 3);
const gaugeStarts = entries(D.listener_gauges, () => 4);
// Records that start a packet (Shift+arrow steps between them), in order.
const packetStarts = (() => {
  let n = 0;
  for (let i = 0; i < N; i++) if (R.k[i] === K.pkt) n++;
  const starts = new Int32Array(n);
  for (let i = 0, j = 0; i < N; i++) if (R.k[i] === K.pkt) starts[j++] = i;
  return starts;
})();
// The lookup walk recorded at each record (its index in D.walks), -1: none.
const walkAt = new Int32Array(N).fill(-1);
for (const i of walkStarts) walkAt[D.walks[i]] = i;

mark('records');
// ---- Conns and their lanes. ----
const conns = new Map();  // id -> {id, lane, net, proto, orig, reply}
for (const [id, net, proto, orig, reply] of D.conns)
  conns.set(id, { id, lane: conns.size + 1, net, proto: text(proto), orig, reply });
const laneOrder = [...conns.keys()];  // lane i+1 shows conn laneOrder[i]; lane 0: records with no conn
// A lane's lists (its conn's state changes, its marks) as one flat index:
// lane l's items are items[start[l] .. start[l + 1]), in record order.
// `laneOf(i)`: item i's lane, or -1 if it is on none.
function byLane(count, laneOf) {
  const start = new Int32Array(laneOrder.length + 2);
  const lanes = new Int32Array(count);
  for (let i = 0; i < count; i++) { lanes[i] = laneOf(i); if (lanes[i] >= 0) start[lanes[i] + 1]++; }
  for (let l = 1; l < start.length; l++) start[l] += start[l - 1];
  const items = new Int32Array(start[start.length - 1]);
  const fill = start.slice(0, -1);
  for (let i = 0; i < count; i++) if (lanes[i] >= 0) items[fill[lanes[i]]++] = i;
  return { start, items };
}
// The lane of conn id (0 for none or a conn left out of the page), by a
// table: it is asked for every record.
const connLane = new Int32Array(laneOrder.reduce((a, id) => Math.max(a, id), 0) + 1);
for (const c of conns.values()) connLane[c.id] = c.lane;
const laneOfConn = (id) => (id < connLane.length ? connLane[id] : 0);
// Lane segments: each lane's entries of D.states (record, stage, state).
const changes = byLane(stateStarts.length, (e) => laneOfConn(D.states[stateStarts[e] + 1]) || -1);
// Marks on the lanes: what happened to a conn (or, on lane 0, to a packet
// that has none), by record.
const MARKS = [null, 'packet', 'event', 'clash', 'nat', 'drop', 'early_drop', 'gc'];
const markKind = (k, i) => {
  if (k === K.lookup || k === K.new || k === K.update) return 1;
  if (k === K.event) return 2;
  if (k === K.clash) return 3;
  if (k === K.nat) return 4;
  if (k === K.drop || (k === K.verdict && R.a[i] === 1)) return 5;
  if (k === K.dying && R.a[i] === 4) return 6;
  if (k === K.dying && R.a[i] === 1) return 7;
  return 0;
};
// Counted once for the test state: drop records, and drop marks (drops and
// early drops on a conn's lane, drops on lane 0).
const recMark = new Uint8Array(N);
let dropRecords = 0, dropMarks = 0;
for (let i = 0; i < N; i++) {
  const m = (recMark[i] = markKind(R.k[i], i));
  if (R.k[i] === K.drop) dropRecords++;
  if (m === 5 || (m === 6 && laneOfConn(recC[i]) !== 0)) dropMarks++;
}
const marks = byLane(N, (i) => (recMark[i] ? laneOfConn(recC[i]) : -1));
const MARK_COLOURS = { packet: '#333', event: '#16a085', clash: '#d35400', nat: '#2980b9', drop: '#e00000',
  early_drop: '#e00000', gc: '#7f4f24' };
const STAGE_COLOURS = ['#e8a33d', '#3c8dbc', '#c0392b', '#dddddd'];
// A confirmed conn's tracker states get shades of the confirmed colour.
const STATE_SHADES = { SYN_SENT: '#7fb3d5', SYN_RECV: '#5499c7', ESTABLISHED: '#2471a3', FIN_WAIT: '#1f618d',
  CLOSE_WAIT: '#1a5276', LAST_ACK: '#154360', TIME_WAIT: '#5d6d7e', CLOSE: '#85929e' };

// ---- Streams: log entries sorted by record, replayed up to the moment. ----
// `starts`: where each entry begins in `flat` (its first number is its
// record); `apply(i)` applies the entry at flat index i; `reset()` empties
// the state.
class Stream {
  constructor(flat, starts, apply, reset) {
    this.starts = starts;
    this.flat = flat; this.apply = apply; this.reset = reset; this.next = 0; this.at = -1;
    reset();
  }
  seek(r) {
    if (r < this.at) { this.reset(); this.next = 0; }
    while (this.next < this.starts.length && this.flat[this.starts[this.next]] <= r) this.apply(this.starts[this.next++]);
    this.at = r;
  }
}
const now = { states: new Map(), chains: new Map(), stats: [], counts: [], listeners: [] };
const streams = [
  new Stream(D.states, stateStarts, (i) => {
    const s = D.states;
    now.states.set(s[i + 1], { rec: s[i], stage: s[i + 2], list: s[i + 3], cpu: s[i + 4], use: s[i + 5],
      state: text(s[i + 6]), since: now.states.get(s[i + 1])?.list === s[i + 3] ? now.states.get(s[i + 1]).since : s[i] });
  }, () => now.states.clear()),
  new Stream(D.chains, chainStarts, (i) => {
    const c = D.chains;
    const nodes = Array.from(c.subarray(i + 3, i + 3 + c[i + 2]));
    if (nodes.length) now.chains.set(c[i + 1], nodes); else now.chains.delete(c[i + 1]);
  }, () => now.chains.clear()),
  new Stream(D.stats, statStarts, (i) => {
    const s = D.stats;
    const net = (now.stats[s[i + 1]] ??= []);
    (net[s[i + 2]] ??= new Array(STAT_FIELDS.length).fill(0))[s[i + 3]] = s[i + 4];
  }, () => { now.stats = []; }),
  new Stream(D.counts, countStarts, (i) => { now.counts[D.counts[i + 1]] = D.counts[i + 2]; }, () => { now.counts = []; }),
  new Stream(D.listener_gauges, gaugeStarts, (i) => {
    const g = D.listener_gauges;
    now.listeners[g[i + 1]] = [g[i + 2], g[i + 3]];
  }, () => { now.listeners = []; }),
];
mark('streams');
// ---- The moment and the selection. ----
let cur = 0;
let selected = 0;  // conn id, 0: none

function formatTime(ns) {
  if (ns >= 1e9) return (ns / 1e9).toFixed(6).replace(/\.?0+$/, '') + ' s';
  if (ns >= 1e6) return (ns / 1e6).toFixed(3).replace(/\.?0+$/, '') + ' ms';
  if (ns >= 1e3) return (ns / 1e3).toFixed(3).replace(/\.?0+$/, '') + ' us';
  return ns + ' ns';
}
function parseTime(s) {
  const m = /^([0-9.]+)(ns|us|ms|s)?$/.exec(s);
  if (!m) return null;
  return parseFloat(m[1]) * { ns: 1, us: 1e3, ms: 1e6, s: 1e9 }[m[2] || 's'];
}
// The last record at or before time t.
function recordAt(t) {
  let lo = 0, hi = N - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (recT[mid] <= t) lo = mid; else hi = mid - 1; }
  return lo;
}
function describe(i) {
  const k = KINDS[R.k[i]];
  const parts = [k];
  if (recC[i]) parts.push('conn ' + recC[i]);
  if (recP[i]) parts.push('packet ' + recP[i]);
  if (R.x[i]) parts.push(text(R.x[i]));
  if (k === 'lookup' || k === 'confirm') parts.push('bucket ' + R.a[i]);
  if (k === 'dying') parts.push('(' + DEATHS[R.a[i]] + ')');
  return parts.join(', ');
}

// ---- Views. ----
// What conn `id`'s lane shows at record r: its last change at or before r.
function laneStateAt(id, r) {
  const c = conns.get(id);
  let seg = -1;  // its index in D.states
  if (c) {
    for (let j = changes.start[c.lane]; j < changes.start[c.lane + 1]; j++) {
      const i = stateStarts[changes.items[j]];
      if (D.states[i] <= r) seg = i;
    }
  }
  return seg >= 0 ? { stage: STAGES[D.states[seg + 2]], state: text(D.states[seg + 6]) } : null;
}

function drawLanes() {
  const scroll = $('lanes-scroll');
  const canvas = $('lanes');
  const width = scroll.clientWidth - 2;
  const height = scroll.clientHeight;
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  $('lanes-spacer').style.height = ((laneOrder.length + 1) * LANE_H) + 'px';
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, width, height);
  const left = 70, span = width - left - 4;
  const x = (r) => left + (N > 1 ? (r / (N - 1)) * span : 0);
  const first = Math.floor(scroll.scrollTop / LANE_H);
  const offset = scroll.scrollTop - first * LANE_H;
  g.font = '11px sans-serif';
  g.textBaseline = 'middle';
  for (let lane = first; lane <= laneOrder.length && (lane - first) * LANE_H - offset < height; lane++) {
    const y = (lane - first) * LANE_H - offset;
    const id = lane === 0 ? 0 : laneOrder[lane - 1];
    const c = conns.get(id);
    if (id !== 0 && id === selected) { g.fillStyle = '#fff3b0'; g.fillRect(0, y, width, LANE_H); }
    g.fillStyle = '#444';
    g.fillText(id === 0 ? '(no conn)' : 'conn ' + id, 2, y + LANE_H / 2);
    if (c) {
      const S = D.states, to = changes.start[lane + 1];
      for (let j = changes.start[lane]; j < to; j++) {
        const i = stateStarts[changes.items[j]];
        const rec = S[i], stage = S[i + 2], state = text(S[i + 6]);
        const end = j + 1 < to ? S[stateStarts[changes.items[j + 1]]] : (stage === 3 ? rec : N - 1);
        g.fillStyle = stage === 1 && STATE_SHADES[state] ? STATE_SHADES[state] : STAGE_COLOURS[stage];
        const x0 = x(rec), x1 = Math.max(x(end), x0 + 2);
        g.fillRect(x0, y + 3, x1 - x0, LANE_H - 6);
        if (x1 - x0 > 60 && state) { g.fillStyle = '#fff'; g.fillText(state, x0 + 2, y + LANE_H / 2); }
      }
    }
    for (let j = marks.start[lane]; j < marks.start[lane + 1]; j++) {
      const rec = marks.items[j], m = MARKS[recMark[rec]];
      g.fillStyle = MARK_COLOURS[m];
      const mx = x(rec);
      if (m === 'packet') g.fillRect(mx, y + 1, 1, 3);
      else if (m === 'drop' || m === 'early_drop') { g.fillRect(mx - 1, y, 3, LANE_H); }
      else g.fillRect(mx - 1, y + LANE_H - 4, 3, 3);
    }
  }
  g.fillStyle = '#b58900';
  g.fillRect(x(cur), 0, 2, height);
}

function laneAt(clientY) {
  const scroll = $('lanes-scroll');
  const y = clientY - scroll.getBoundingClientRect().top + scroll.scrollTop;
  const lane = Math.floor(y / LANE_H);
  return lane >= 1 && lane <= laneOrder.length ? laneOrder[lane - 1] : 0;
}

function nodeLabel(code) {
  const id = code >> 1;
  return 'conn ' + id + ' ' + (code & 1 ? 'REPLY' : 'ORIGINAL');
}

// The packet of the current record and its lookup walk, if it had one so far.
function currentWalk() {
  for (let i = cur; i >= 0 && recP[i] === recP[cur] && (recP[cur] !== 0 || i === cur); i--)
    if (walkAt[i] >= 0) {
      const w = walkAt[i], W = D.walks;
      return { rec: i, bucket: W[w + 1], match: W[w + 2] - 1, nodes: Array.from(W.subarray(w + 4, w + 4 + W[w + 3])) };
    }
  return null;
}

function renderTable() {
  const walk = currentWalk();
  const sel = selected ? now.states.get(selected) : null;
  // The chains to show: the walked bucket, the selected conn's two, then the longest.
  const wanted = [];
  if (walk) wanted.push(walk.bucket);
  if (selected) for (const [b, nodes] of now.chains) if (nodes.some((n) => n >> 1 === selected)) wanted.push(b);
  const rest = [...now.chains.keys()].filter((b) => !wanted.includes(b));
  rest.sort((a, b) => now.chains.get(b).length - now.chains.get(a).length || a - b);
  const shown = [...new Set([...wanted, ...rest])].slice(0, MAX_BUCKETS_SHOWN).sort((a, b) => a - b);
  const html = [];
  for (const b of shown) {
    const nodes = now.chains.get(b) || [];
    const looked = walk && walk.bucket === b;
    const items = nodes.map((code, pos) => {
      const id = code >> 1;
      const cls = ['node', code & 1 ? 'reply' : 'original'];
      if (id === selected) cls.push('selected');
      if (!conns.has(id)) cls.push('left-out');
      let delay = '';
      if (looked) {
        const step = walk.nodes.findIndex((w) => w >> 2 === code);
        if (step >= 0) {
          cls.push('walked');
          if (walk.nodes[step] & 2) cls.push('expired');
          delay = ` style="animation-delay:${(step * 0.5).toFixed(1)}s"`;
        }
        if (walk.match === code) cls.push('matched');
      }
      return `<li class="${cls.join(' ')}" data-conn="${id}" data-dir="${code & 1 ? 'REPLY' : 'ORIGINAL'}" ` +
        `data-pos="${pos + 1}"${delay} title="${escapeHtml(tupleOf(code))}">${nodeLabel(code)}</li>`;
    });
    items.push(`<li class="nulls" title="the nulls marker: the walk ends here, in bucket ${b}">nulls(${b})</li>`);
    html.push(`<div class="bucket${looked ? ' looked' : ''}" data-bucket="${b}"><span class="bnum">bucket ${b}</span>` +
      `<ol class="chain">${items.join('<li class="arrow">&#x2192;</li>')}</ol></div>`);
  }
  if (walk && !now.chains.has(walk.bucket))
    html.unshift(`<div class="bucket looked" data-bucket="${walk.bucket}"><span class="bnum">bucket ${walk.bucket}</span>` +
      `<ol class="chain"><li class="nulls">nulls(${walk.bucket})</li></ol></div>`);
  $('table').innerHTML = html.join('');
  const note = [`${now.chains.size} of ${D.buckets} buckets hold nodes`];
  if (now.chains.size > shown.length) note.push(`showing ${shown.length}: the looked-up bucket, the selected conn's, then the longest chains`);
  if (walk) note.push(`packet ${recP[walk.rec]}'s lookup walked bucket ${walk.bucket}: ` +
    (walk.nodes.length ? walk.nodes.length + ' node(s) compared' : 'empty') +
    (walk.match >= 0 ? ', matched ' + nodeLabel(walk.match) : ', no match'));
  if (sel && sel.list !== 2) note.push(`conn ${selected} is not in the table (${LISTS[sel.list]})`);
  $('table-note').textContent = note.join('; ');
}

function tupleOf(code) {
  const c = conns.get(code >> 1);
  if (!c) return 'left out of this page';
  return code & 1 ? c.reply : c.orig;
}
function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[ch]));
}

function renderLists() {
  // Per namespace and CPU: who is on which list, newest first (the lists
  // add at the head).
  const lists = new Map();
  for (const [id, s] of now.states) {
    if (s.list !== 1 && s.list !== 3) continue;
    const c = conns.get(id);
    const key = `${c ? c.net : 0}/${s.cpu}/${s.list}`;
    if (!lists.has(key)) lists.set(key, []);
    lists.get(key).push([s.since, id, s]);
  }
  const html = [];
  // 5.19+ kernels (D.lists 'ecache'): no unconfirmed list, and one dying
  // list per namespace holding only the conns whose DESTROY failed.
  const ecacheLists = D.lists === 'ecache';
  for (let net = 0; ecacheLists && net < D.nets.length; net++) {
    const members = [];
    for (let cpu = 0; cpu < D.cpus; cpu++) members.push(...(lists.get(`${net}/${cpu}/3`) || []));
    members.sort((a, b) => b[0] - a[0] || b[1] - a[1]);
    const chips = members.slice(0, MAX_CHIPS).map(([, id, s]) =>
      `<span class="chip st-${STAGES[s.stage]}${id === selected ? ' selected' : ''}" data-conn="${id}">conn ${id}</span>`);
    if (members.length > MAX_CHIPS) chips.push(` and ${members.length - MAX_CHIPS} more`);
    html.push(`<div class="list" data-net="${net}" data-list="${LISTS[3]}">` +
      `<b>${escapeHtml(D.nets[net])} ecache dying (undelivered DESTROY):</b>` +
      (chips.length ? chips.join('') : ' <i>empty</i>') + '</div>');
  }
  for (let net = 0; !ecacheLists && net < D.nets.length; net++) {
    for (let cpu = 0; cpu < D.cpus; cpu++) {
      for (const list of [1, 3]) {
        const members = (lists.get(`${net}/${cpu}/${list}`) || []).sort((a, b) => b[0] - a[0] || b[1] - a[1]);
        const chips = members.slice(0, MAX_CHIPS).map(([, id, s]) =>
          `<span class="chip st-${STAGES[s.stage]}${id === selected ? ' selected' : ''}" data-conn="${id}">conn ${id}</span>`);
        if (members.length > MAX_CHIPS) chips.push(` and ${members.length - MAX_CHIPS} more`);
        html.push(`<div class="list" data-net="${net}" data-cpu="${cpu}" data-list="${LISTS[list]}">` +
          `<b>${escapeHtml(D.nets[net])} CPU ${cpu} ${list === 1 ? 'unconfirmed' : 'dying'}:</b>` +
          (chips.length ? chips.join('') : ' <i>empty</i>') + '</div>');
      }
    }
  }
  $('lists').innerHTML = html.join('');
  const s = selected ? now.states.get(selected) : null;
  const c = conns.get(selected);
  $('selected-use').innerHTML = !selected ? 'Click a conn (a lane, a node, a chip) to select it.'
    : !s ? `conn ${selected} does not exist yet.`
    : `<b>conn ${selected}</b> ${escapeHtml(c ? c.orig : '')}: <span id="sel-stage" class="chip st-${STAGES[s.stage]}">` +
      `${STAGES[s.stage]}${s.state ? ' ' + s.state : ''}</span> on ${LISTS[s.list]}` +
      (s.list === 1 || s.list === 3 ? ` of CPU ${s.cpu}` : '') + `, <span id="sel-use">use ${s.use}</span>`;
}

function statLine(cpu, v) {
  // conntrack -S's layout (sim/output/conntrack_tool_format.cc, format_stat_line).
  // chaintoolong (the last field) only on kernels that have it (5.15+, D.chaintoolong).
  const shown = D.chaintoolong ? STAT_FIELDS : STAT_FIELDS.slice(0, -1);
  return `cpu=${String(cpu).padEnd(4)}\t` + shown.map((f, i) => `${f}=${v[i]}`).join(' ') + ' ';
}

function renderCounters() {
  const out = [];
  const html = [];
  for (let net = 0; net < D.nets.length; net++) {
    const count = now.counts[net] || 0;
    const full = D.max > 0 && count >= D.max;
    html.push(`<div class="count" data-net="${net}">nf_conntrack_count ${escapeHtml(D.nets[net])}: ` +
      `<b class="count-value">${count}</b> of nf_conntrack_max ${D.max} ` +
      `<span class="count-bar${full ? ' full' : ''}"><i style="width:${D.max ? Math.min(100, 100 * count / D.max) : 0}%"></i></span>` +
      (full ? ' <b class="full-note">table full</b>' : '') + '</div>');
    out.push(`# conntrack -S (netns ${D.nets[net]})`);
    for (let cpu = 0; cpu < D.cpus; cpu++)
      out.push(statLine(cpu, (now.stats[net] && now.stats[net][cpu]) || new Array(STAT_FIELDS.length).fill(0)));
  }
  $('counts').innerHTML = html.join('');
  $('stats').textContent = out.join('\n');
  if (D.listeners.length) {
    $('listeners').innerHTML = '<table class="listeners"><tr><th>listener</th><th>backlog</th><th>lost</th></tr>' +
      D.listeners.map((name, i) => `<tr><td>${escapeHtml(name)}</td><td>${(now.listeners[i] || [0, 0])[0]}</td>` +
        `<td>${(now.listeners[i] || [0, 0])[1]}</td></tr>`).join('') + '</table>';
  } else {
    $('listeners').textContent = 'No listeners.';
  }
}

// ---- The narrative: the --explain block that holds the current record. ----
const NAR = D.narrative;
function blockOf(offset) {
  let p = offset;
  if (NAR[p] === '\n') p++;
  const s = NAR.lastIndexOf('\n\n', p - 2);
  const start = s < 0 ? 0 : s + 2;
  const e = NAR.indexOf('\n\n', p);
  return [start, e < 0 ? NAR.length : e + 1];
}
function renderNarrative() {
  const off = recB[cur];
  if (off >= NAR.length) {
    $('narrative').textContent = `(this step's narrative is left out of the page: the page keeps the first ${NAR.length} ` +
      `bytes of it; run with --explain FILE for all of it)`;
    return;
  }
  const [start, end] = blockOf(off);
  const mine = cur + 1 < N ? Math.min(recB[cur + 1], end) : end;
  const from = Math.max(start, NAR[off] === '\n' ? off + 1 : off);
  const parts = [NAR.slice(start, from), NAR.slice(from, Math.max(from, mine)), NAR.slice(Math.max(from, mine), end)];
  const linkify = (s) => escapeHtml(s).replace(/\b([a-z_][a-z0-9_]*)\(\)/g, '<span class="fn" data-fn="$1">$1()</span>');
  $('narrative').innerHTML = linkify(parts[0]) + '<span class="now">' + linkify(parts[1]) + '</span>' + linkify(parts[2]);
  // Scroll the narrative (only it, not the window) to the current step.
  const pre = $('narrative'), nowSpan = pre.querySelector('.now');
  if (nowSpan && nowSpan.textContent) pre.scrollTop = Math.max(0, nowSpan.offsetTop - 40);
}
// The next record after the current one whose narrative names `fn`.
function nextPlaceOf(fn) {
  const [, end] = blockOf(recB[cur]);
  const at = NAR.indexOf(fn + '()', end);
  if (at < 0) return null;
  const [start] = blockOf(at);
  for (let i = cur + 1; i < N; i++) if (recB[i] >= start - 1 && recB[i] <= at) {
    // the record whose text holds the name
    let j = i;
    while (j + 1 < N && recB[j + 1] <= at) j++;
    return j;
  }
  return null;
}

// ---- Charts: drawn once, the moment marked on each move. ----
const charts = [];
// A chart over the whole run: x is the record number (as on the lanes),
// y the series' values; `maxLine` (if any) a dashed limit, drawn when it is
// within twice the highest value (else the title says it is off the scale).
function chart(id, title, series, maxLine) {
  const canvas = $(id);
  const g = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height, left = 40, top = 16, bottom = h - 14;
  let yMax = 1;
  for (const s of series) for (const [, v] of s.points) yMax = Math.max(yMax, v);
  const limitShown = maxLine && maxLine <= 2 * yMax;
  if (limitShown) yMax = Math.max(yMax, maxLine);
  else if (maxLine) title += ` (nf_conntrack_max ${maxLine} is off the scale)`;
  const px = (r) => left + (N > 1 ? r / (N - 1) : 0) * (w - left - 6);
  const py = (v) => bottom - (v / yMax) * (bottom - top);
  const base = document.createElement('canvas');
  base.width = w; base.height = h;
  const b = base.getContext('2d');
  b.fillStyle = '#fff'; b.fillRect(0, 0, w, h);
  b.fillStyle = '#222'; b.font = '11px sans-serif';
  b.fillText(title, left, 11);
  b.fillText(String(yMax), 2, top + 4);
  b.fillText('0', 2, bottom);
  b.fillText('record ' + (N - 1), w - 70, h - 2);
  b.strokeStyle = '#ccc'; b.strokeRect(left, top, w - left - 6, bottom - top);
  if (limitShown) {
    b.strokeStyle = '#c0392b'; b.setLineDash([4, 3]);
    b.beginPath(); b.moveTo(left, py(maxLine)); b.lineTo(w - 6, py(maxLine)); b.stroke();
    b.setLineDash([]);
  }
  for (const s of series) {
    b.strokeStyle = s.colour; b.fillStyle = s.colour;
    if (s.bars) {
      for (const [r, v] of s.points) b.fillRect(px(r), py(v), 2, bottom - py(v));
    } else {
      // A step line: a level holds until the record that changes it.
      b.beginPath();
      let prev = 0;
      b.moveTo(left, py(0));
      for (const [r, v] of s.points) { b.lineTo(px(r), py(prev)); b.lineTo(px(r), py(v)); prev = v; }
      b.lineTo(w - 6, py(prev));
      b.stroke();
    }
  }
  // The legend, after the title.
  let legendX = left + b.measureText(title).width + 12;
  for (const s of series) { b.fillStyle = s.colour; b.fillText(s.name, legendX, 11); legendX += b.measureText(s.name).width + 10; }
  charts.push({ g, base, px, h });
}
function buildCharts() {
  const occ = D.nets.map((name, net) => ({ name: 'count ' + name, colour: ['#3c8dbc', '#16a085', '#8e44ad', '#d35400'][net % 4], points: [] }));
  for (let i = 0; i < D.counts.length; i += 3) occ[D.counts[i + 1]]?.points.push([D.counts[i], D.counts[i + 2]]);
  chart('chart-occupancy', 'occupancy (nf_conntrack_count; dashed: nf_conntrack_max)', occ, D.max);
  // Drops: drop, early_drop and insert_failed summed over CPUs and namespaces.
  const names = ['drop', 'early_drop', 'insert_failed'];
  const fields = names.map((n) => STAT_FIELDS.indexOf(n));
  const drops = names.map((n, j) => ({ name: n, colour: ['#e00000', '#d35400', '#7f8c8d'][j], points: [] }));
  const per = new Map();  // "net/cpu" -> values
  const total = [0, 0, 0];
  for (let i = 0; i < D.stats.length; i += 5) {
    const j = fields.indexOf(D.stats[i + 3]);
    if (j < 0) continue;
    const key = D.stats[i + 1] + '/' + D.stats[i + 2] + '/' + j;
    total[j] += D.stats[i + 4] - (per.get(key) || 0);
    per.set(key, D.stats[i + 4]);
    drops[j].points.push([D.stats[i], total[j]]);
  }
  chart('chart-drops', 'drops (conntrack -S, summed)', drops, 0);
  const scanned = { name: 'scanned', colour: '#95a5a6', bars: true, points: [] };
  const reaped = { name: 'expired + early-dropped', colour: '#c0392b', bars: true, points: [] };
  for (let i = 0; i < D.gc.length; i += 4) {
    const r = recordAt(D.gc[i]);
    scanned.points.push([r, D.gc[i + 1]]);
    if (D.gc[i + 2] + D.gc[i + 3]) reaped.points.push([r, D.gc[i + 2] + D.gc[i + 3]]);
  }
  chart('chart-gc', 'GC work per gc_worker run', [scanned, reaped], 0);
}
function markCharts() {
  for (const c of charts) {
    c.g.drawImage(c.base, 0, 0);
    c.g.fillStyle = '#b58900';
    c.g.fillRect(c.px(cur), 0, 2, c.h);
  }
}

// ---- Moving, and the state tests read. ----
function writeTestState(extra) {
  const s = selected ? now.states.get(selected) : null;
  const state = {
    ready: true, rec: cur, records: N, t_ns: recT[cur], kind: KINDS[R.k[cur]], packet: recP[cur], selected,
    selected_stage: s ? STAGES[s.stage] : null, selected_state: s ? s.state : null, selected_use: s ? s.use : null,
    selected_list: s ? LISTS[s.list] : null, lane: selected ? laneStateAt(selected, cur) : null,
    drop_records: dropRecords, counts: D.nets.map((n, i) => now.counts[i] || 0), max: D.max,
    drop_marks: dropMarks,
    errors: pageErrors, timings, ...extra,
  };
  $('test-state').textContent = JSON.stringify(state);
}
let readyMs = null;
function go(r, fromHash) {
  cur = Math.max(0, Math.min(N - 1, r));
  for (const s of streams) s.seek(cur);
  $('slider').value = cur;
  $('position').textContent = `record ${cur} of ${N - 1} at ${formatTime(recT[cur])}: ${describe(cur)}`;
  drawLanes();
  renderTable();
  renderLists();
  renderCounters();
  renderNarrative();
  markCharts();
  if (!fromHash) {
    const view = hashParams().get('view');
    const h = `#rec=${cur}${selected ? '&sel=' + selected : ''}${view ? '&view=' + view : ''}`;
    try { history.replaceState(null, '', h); } catch (e) { /* some file:// contexts refuse: the page still works */ }
  }
  writeTestState({ ready_ms: readyMs });
}
function select(id) {
  selected = selected === id ? 0 : id;
  go(cur);
}
function hashParams() { return new URLSearchParams(location.hash.replace(/^#/, '')); }
// #rec=N, #t=12.5s, #pkt=N (the last record of packet N), #kind=K (with pkt or sel:
// the first such record of that packet or conn), &sel=C, &view=NAME.
function fromHash() {
  const q = hashParams();
  if (q.has('sel')) selected = parseInt(q.get('sel'), 10) || 0;
  const view = q.get('view');
  document.body.classList.toggle('single', !!view);
  for (const v of document.querySelectorAll('.view')) v.classList.toggle('shown', v.id === 'view-' + view);
  let r = cur;
  if (q.has('rec')) r = parseInt(q.get('rec'), 10) || 0;
  else if (q.has('t')) { const t = parseTime(q.get('t')); if (t !== null) r = recordAt(t); }
  else if (q.has('kind')) {
    // The first record of that kind: of packet `pkt` if given, else of the
    // selected conn if any, else of the run.
    const k = K[q.get('kind')];
    const p = q.has('pkt') ? parseInt(q.get('pkt'), 10) : null;
    for (let i = 0; i < N; i++) {
      if (R.k[i] !== k) continue;
      if (p !== null ? recP[i] === p : !selected || recC[i] === selected) { r = i; break; }
    }
  } else if (q.has('pkt')) {
    const p = parseInt(q.get('pkt'), 10);
    for (let i = 0; i < N; i++) if (recP[i] === p) r = i;  // its last record
  }
  go(r, true);
}

// How many of the sorted `values` are at most x.
function countAtMost(values, x) {
  let lo = 0, hi = values.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (values[mid] <= x) lo = mid + 1; else hi = mid; }
  return lo;
}
function packetStep(dir) {
  if (dir > 0) { const n = countAtMost(packetStarts, cur); go(n < packetStarts.length ? packetStarts[n] : N - 1); }
  else { const p = countAtMost(packetStarts, cur - 1); go(p > 0 ? packetStarts[p - 1] : 0); }
}

function main() {
  $('scenario').textContent = D.scenario;
  document.title = 'ctsim explorer: ' + D.scenario;
  const lo = D.left_out;
  if (lo.conns || lo.records || lo.narrative || lo.after_ns >= 0) {
    const note = $('left-out');
    note.hidden = false;
    note.textContent = 'A big run: ' + [lo.after_ns >= 0 ? `the page stops at ${formatTime(lo.after_ns)} (it holds at most 2,000,000 records)` : '',
      lo.conns ? `${lo.conns} conns (the least busy) and their ${lo.records} records are left out` : '',
      lo.narrative ? `the narrative after its first ${NAR.length} bytes is left out (${lo.narrative} bytes)` : '']
      .filter(Boolean).join('; ') + '. Counters and charts cover every record kept (docs/EXPLORER.md, "Big runs").';
  }
  $('lane-legend').innerHTML = STAGES.map((s, i) => `<span style="background:${STAGE_COLOURS[i]};${i === 3 ? 'color:#333' : ''}">${s}</span>`).join('') +
    ' marks: ' + Object.entries(MARK_COLOURS).map(([m, c]) => `<b style="color:${c}">&#x25A0;</b>${m.replace('_', ' ')}`).join(' ');
  $('lanes-note').textContent = `${conns.size} conns, one lane each (x: record number; click a lane to select its conn)`;
  $('slider').max = N - 1;
  $('slider').addEventListener('input', (e) => go(parseInt(e.target.value, 10)));
  $('first').onclick = () => go(0);
  $('last').onclick = () => go(N - 1);
  $('prev').onclick = () => go(cur - 1);
  $('next').onclick = () => go(cur + 1);
  $('prev-packet').onclick = () => packetStep(-1);
  $('next-packet').onclick = () => packetStep(1);
  document.addEventListener('keydown', (e) => {
    if (e.target && e.target.tagName === 'INPUT' && e.target.type !== 'range') return;
    if (e.key === 'ArrowRight') { e.shiftKey ? packetStep(1) : go(cur + 1); e.preventDefault(); }
    else if (e.key === 'ArrowLeft') { e.shiftKey ? packetStep(-1) : go(cur - 1); e.preventDefault(); }
    else if (e.key === 'Home') { go(0); e.preventDefault(); }
    else if (e.key === 'End') { go(N - 1); e.preventDefault(); }
  });
  $('lanes-scroll').addEventListener('scroll', drawLanes);
  $('lanes-scroll').addEventListener('click', (e) => { const id = laneAt(e.clientY); if (id) select(id); });
  for (const id of ['table', 'lists']) {
    $(id).addEventListener('click', (e) => {
      const el = e.target.closest('[data-conn]');
      if (el) select(parseInt(el.dataset.conn, 10));
    });
  }
  $('narrative').addEventListener('click', (e) => {
    const el = e.target.closest('.fn');
    if (!el) return;
    const r = nextPlaceOf(el.dataset.fn);
    if (r !== null) go(r);
  });
  window.addEventListener('hashchange', fromHash);
  window.addEventListener('resize', drawLanes);
  mark('setup');
  buildCharts();
  mark('charts');
  fromHash();
  readyMs = Math.round(performance.now());
  writeTestState({ ready_ms: readyMs });
}

try {
  main();
} catch (e) {
  pageErrors.push(String(e && e.stack || e));
  $('test-state').textContent = JSON.stringify({ ready: false, errors: pageErrors });
  throw e;
}
