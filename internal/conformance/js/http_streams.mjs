// The HTTP streams of a kitgen-generated service (internal/streamtest,
// served by httpx.Serve), read and written by Node's own clients, none of
// them typedkit's:
//
//   node js/http_streams.mjs BASE
//
// - http2 over cleartext (h2c, prior knowledge) holds a conversation on
//   POST /chat: one NDJSON line written, its answer read, then the next;
// - http (HTTP/1.1) does the same with a chunked request body kept open
//   while the response is read (the server's full duplex);
// - fetch reads GET /events as Server-Sent Events and as NDJSON/JSONL and
//   checks the framing byte for byte, and aborts a stream mid-way.
//
// Each case sends its name in an x-case header, so the Go test can tell
// how its stream ended on the server. It prints one JSON line per case
// ({"case", "ok", "problems"}) and exits 1 if any failed.
import http from 'node:http';
import http2 from 'node:http2';

const base = process.argv[2];
if (!base) {
  console.error('usage: node js/http_streams.mjs BASE');
  process.exit(2);
}
const { hostname, port } = new URL(base);

const withTimeout = (p, ms, what) => {
  let timer;
  return Promise.race([
    p, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: nothing in ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
};

const eq = (problems, what, got, want) => {
  if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${what}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
};

// lineReader returns a function that resolves with the next line of a
// readable stream (without its \n), or null at its end.
function lineReader(readable) {
  let buf = '';
  let ended = false;
  let error = null;
  const waiters = [];
  const wake = () => {
    while (waiters.length > 0) {
      const i = buf.indexOf('\n');
      if (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        waiters.shift().resolve(line);
      } else if (error) {
        waiters.shift().reject(error);
      } else if (ended) {
        waiters.shift().resolve(buf === '' ? null : buf);
        buf = '';
      } else {
        return;
      }
    }
  };
  readable.setEncoding('utf8');
  readable.on('data', (s) => { buf += s; wake(); });
  readable.on('end', () => { ended = true; wake(); });
  readable.on('error', (e) => { error = e; wake(); });
  return () => new Promise((resolve, reject) => { waiters.push({ resolve, reject }); wake(); });
}

// converse writes questions one line at a time on a request body kept
// open and reads each answer before it writes the next.
async function converse(p, body, nextLine, n) {
  for (let i = 0; i < n; i++) {
    body.write(`${JSON.stringify({ id: `m${i}`, kind: 'question', seq: i })}\n`);
    const line = await withTimeout(nextLine(), 15000, `the answer to line ${i}`);
    if (line === null) {
      p.push(`the response ended before the answer to line ${i}`);
      return;
    }
    eq(p, `answer ${i}`, JSON.parse(line), { result: { id: `m${i}`, kind: 'echo', seq: i } });
  }
}

// h2 opens a POST /chat stream on a new h2c session.
async function h2(kase) {
  const session = http2.connect(base);
  session.on('error', () => {});
  const req = session.request({
    ':method': 'POST', ':path': '/chat', 'content-type': 'application/x-ndjson', 'x-case': kase,
  });
  const headers = new Promise((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  return { session, req, headers, nextLine: lineReader(req) };
}

// h1 opens a POST /chat exchange over HTTP/1.1 with a chunked body kept
// open.
function h1(kase) {
  const req = http.request({
    hostname, port, method: 'POST', path: '/chat', agent: false,
    headers: { 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked', 'x-case': kase },
  });
  const response = new Promise((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  req.flushHeaders();
  return { req, response };
}

const sse = (id, data) => `id: ${id}\ndata: ${JSON.stringify(data)}\n\n`;
const tick = (id, seq) => ({ id, kind: 'tick', seq });

async function get(path, accept, kase) {
  const headers = { 'x-case': kase };
  if (accept) headers.accept = accept;
  const resp = await fetch(base + path, { headers });
  return { resp, body: await resp.text() };
}

const cases = {
  async 'h2c: a conversation'(p) {
    const { session, req, headers, nextLine } = await h2('h2 chat');
    try {
      const write = converse(p, req, nextLine, 5);
      const h = await withTimeout(headers, 15000, 'the response header');
      eq(p, 'status', h[':status'], 200);
      eq(p, 'content-type', h['content-type'], 'application/x-ndjson');
      await write;
      req.end();
      eq(p, 'after the last answer', await withTimeout(nextLine(), 15000, 'the end'), null);
    } finally {
      session.close();
    }
  },
  async 'h2c: a failure mid-conversation'(p) {
    const { session, req, nextLine } = await h2('h2 chat fail');
    try {
      await converse(p, req, nextLine, 1);
      req.write(`${JSON.stringify({ id: 'x', kind: 'fail' })}\n`);
      const line = await withTimeout(nextLine(), 15000, 'the error line');
      const got = JSON.parse(line);
      if (!got.error) {
        p.push(`${line}: want an error line`);
      } else {
        eq(p, 'error', [got.error.status, got.error.code], [500, 'unknown']);
        if (line.includes('not for the caller')) p.push(`internal text on the wire: ${line}`);
      }
      eq(p, 'after the error', await withTimeout(nextLine(), 15000, 'the end'), null);
      req.end();
    } finally {
      session.close();
    }
  },
  async 'h2c: the client goes away mid-conversation'(p) {
    const { session, req, nextLine } = await h2('h2 chat gone');
    await converse(p, req, nextLine, 2);
    session.destroy();
  },
  // (Node's stream.close(NGHTTP2_CANCEL) ends the request body with
  // END_STREAM before its RST_STREAM, so a server sees a clean end of the
  // requests; a session destroyed is a client gone.)
  async 'h2c: the client goes away mid-upload'(p) {
    const session = http2.connect(base);
    session.on('error', () => {});
    const req = session.request({
      ':method': 'POST', ':path': '/uploads', 'content-type': 'application/x-ndjson', 'x-case': 'h2 upload gone',
    });
    req.on('error', () => {});
    req.write('{"n":1}\n');
    // Whether the server read the line yet or not, the body breaks off.
    await new Promise((resolve) => setTimeout(resolve, 100));
    session.destroy();
  },
  async 'HTTP/1.1: the client goes away mid-upload'(p) {
    const req = http.request({
      hostname, port, method: 'POST', path: '/uploads', agent: false,
      headers: { 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked', 'x-case': 'h1 upload gone' },
    });
    req.on('error', () => {});
    req.write('{"n":1}\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    req.destroy();
  },
  async 'HTTP/1.1: a conversation over a chunked body kept open'(p) {
    const { req, response } = h1('h1 chat');
    // The server answers the first line while the request is still open.
    req.write(`${JSON.stringify({ id: 'm0', kind: 'question', seq: 0 })}\n`);
    const res = await withTimeout(response, 15000, 'the response header');
    eq(p, 'status', res.statusCode, 200);
    eq(p, 'content-type', res.headers['content-type'], 'application/x-ndjson');
    eq(p, 'HTTP version', res.httpVersion, '1.1');
    const nextLine = lineReader(res);
    const first = await withTimeout(nextLine(), 15000, 'the answer to line 0');
    eq(p, 'answer 0', JSON.parse(first), { result: { id: 'm0', kind: 'echo', seq: 0 } });
    for (let i = 1; i < 5; i++) {
      req.write(`${JSON.stringify({ id: `m${i}`, kind: 'question', seq: i })}\n`);
      const line = await withTimeout(nextLine(), 15000, `the answer to line ${i}`);
      eq(p, `answer ${i}`, line && JSON.parse(line), { result: { id: `m${i}`, kind: 'echo', seq: i } });
    }
    req.end();
    eq(p, 'after the last answer', await withTimeout(nextLine(), 15000, 'the end'), null);
  },
  async 'fetch: SSE framing, an error after events'(p) {
    const { resp, body } = await get('/events?prefix=e&count=2&fail=aborted', 'text/event-stream', 'sse error');
    eq(p, 'status', resp.status, 200);
    eq(p, 'content-type', resp.headers.get('content-type'), 'text/event-stream');
    eq(p, 'cache-control', resp.headers.get('cache-control'), 'no-cache');
    eq(p, 'body', body, sse(1, tick('e0', 0)) + sse(2, tick('e1', 1))
      + `event: error\ndata: ${JSON.stringify({ title: 'Conflict', status: 409, detail: 'asked to fail with aborted', code: 'aborted' })}\n\n`);
  },
  async 'fetch: SSE framing, the end event'(p) {
    const { body } = await get('/events?count=3', 'text/event-stream', 'sse end');
    eq(p, 'body', body, sse(1, tick('0', 0)) + sse(2, tick('1', 1)) + sse(3, tick('2', 2)) + 'event: end\ndata: {}\n\n');
  },
  async 'fetch: SSE, an error before the stream opened'(p) {
    const { resp, body } = await get('/events?fail=permission_denied&openFail=true', 'text/event-stream', 'sse open error');
    eq(p, 'status', resp.status, 403);
    eq(p, 'content-type', resp.headers.get('content-type'), 'application/problem+json');
    eq(p, 'code', JSON.parse(body).code, 'permission_denied');
  },
  async 'fetch: SSE read as it comes, then aborted'(p) {
    const ctl = new AbortController();
    const resp = await fetch(`${base}/events?prefix=a&everyMillis=2`, {
      headers: { accept: 'text/event-stream', 'x-case': 'sse abort' }, signal: ctl.signal,
    });
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while ((text.match(/\n\n/g) || []).length < 3) {
      const { value, done } = await withTimeout(reader.read(), 15000, 'an event');
      if (done) {
        p.push(`the stream ended after ${JSON.stringify(text)}`);
        return;
      }
      text += value;
    }
    ctl.abort();
    await reader.read().catch(() => {});
    const events = text.split('\n\n').slice(0, 3);
    eq(p, 'first events', events, [0, 1, 2].map((i) => sse(i + 1, tick(`a${i}`, i)).slice(0, -2)));
  },
  async 'fetch: NDJSON framing'(p) {
    const { resp, body } = await get('/events?count=2', '', 'ndjson');
    eq(p, 'content-type', resp.headers.get('content-type'), 'application/x-ndjson');
    eq(p, 'body', body, `${JSON.stringify({ result: tick('0', 0) })}\n${JSON.stringify({ result: tick('1', 1) })}\n`);
  },
  async 'fetch: JSONL framing, an error after events'(p) {
    const { resp, body } = await get('/events?count=1&fail=unavailable', 'application/jsonl', 'jsonl error');
    eq(p, 'content-type', resp.headers.get('content-type'), 'application/jsonl');
    eq(p, 'body', body, `${JSON.stringify({ result: tick('0', 0) })}\n`
      + `${JSON.stringify({ error: { title: 'Service Unavailable', status: 503, detail: 'asked to fail with unavailable', code: 'unavailable' } })}\n`);
  },
  async 'fetch: an NDJSON upload'(p) {
    const body = ['abc', 'de', ''].map((d, n) => `${JSON.stringify({ data: Buffer.from(d).toString('base64'), n })}\n`).join('');
    const resp = await fetch(`${base}/uploads`, {
      method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'x-case': 'upload' }, body,
    });
    eq(p, 'status', resp.status, 200);
    eq(p, 'summary', await resp.json(), { bytes: 5, count: 3 });
  },
  async 'fetch: an upload with an invalid chunk'(p) {
    const resp = await fetch(`${base}/uploads`, {
      method: 'POST', headers: { 'content-type': 'application/x-ndjson', 'x-case': 'upload invalid' },
      body: '{"n":1}\n{"n":-1}\n',
    });
    eq(p, 'status', resp.status, 400);
    const problem = await resp.json();
    eq(p, 'code', problem.code, 'invalid_argument');
  },
};

let failed = 0;
for (const [name, f] of Object.entries(cases)) {
  const problems = [];
  try {
    await f(problems);
  } catch (e) {
    problems.push(String((e && e.stack) || e));
  }
  if (problems.length > 0) failed++;
  console.log(JSON.stringify({ case: name, ok: problems.length === 0, problems }));
}
process.exit(failed > 0 ? 1 : 0);
