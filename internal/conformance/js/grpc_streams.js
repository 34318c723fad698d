// Streams of every kind between @grpc/grpc-js and a kitgen-generated
// service, the messages encoded by protobuf.js from the emitted .proto
// (internal/streamtest/streamer.proto, loaded by @grpc/proto-loader).
//
//   node js/grpc_streams.js client ADDR
//     calls the generated Go server at ADDR and prints one JSON line per
//     case ({"case", "ok", "problems"}); exits 1 if any failed.
//   node js/grpc_streams.js server
//     serves streamtest.Streamer on 127.0.0.1, prints "listening ADDR",
//     then one line per event the Go test waits for ("cancelled Watch
//     ID"); exits when its standard input closes.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const protoPath = path.join(__dirname, '..', '..', 'streamtest', 'streamer.proto');
const definition = loader.loadSync(protoPath, {
  keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true,
});
const { Streamer } = grpc.loadPackageDefinition(definition).streamtest;

const rpc = new protobuf.Root().loadSync(path.join(__dirname, 'google_rpc.proto'), { keepCase: true });
const Status = rpc.lookupType('google.rpc.Status');
const BadRequest = rpc.lookupType('google.rpc.BadRequest');
const Any = rpc.lookupType('google.protobuf.Any');

// badRequests decodes the BadRequest details of an error's
// grpc-status-details-bin trailer, or returns null when there is none.
function badRequests(err) {
  const bin = err.metadata && err.metadata.get('grpc-status-details-bin');
  if (!bin || bin.length === 0) return null;
  const st = Status.toObject(Status.decode(bin[0]), { defaults: true });
  return {
    code: st.code,
    message: st.message,
    violations: st.details
      .filter((d) => d.type_url === 'type.googleapis.com/google.rpc.BadRequest')
      .flatMap((d) => BadRequest.toObject(BadRequest.decode(d.value), { defaults: true }).field_violations),
  };
}

// statusDetails encodes a google.rpc.Status with one BadRequest detail.
function statusDetails(code, message, violations) {
  const br = BadRequest.encode(BadRequest.fromObject({ field_violations: violations })).finish();
  const any = Any.fromObject({ type_url: 'type.googleapis.com/google.rpc.BadRequest', value: br });
  return Buffer.from(Status.encode(Status.fromObject({ code, message, details: [any] })).finish());
}

const withTimeout = (p, ms, what) => Promise.race([
  p, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: nothing in ${ms} ms`)), ms).unref()),
]);

const md = (kase) => {
  const m = new grpc.Metadata();
  m.set('x-case', kase);
  return m;
};

// serverStream reads a server stream to its end: its messages, the
// metadata event, and its error or status.
function serverStream(call) {
  return new Promise((resolve) => {
    const got = { msgs: [], err: null, headers: false, headersBeforeData: null };
    call.on('metadata', () => {
      got.headers = true;
      if (got.headersBeforeData === null) got.headersBeforeData = got.msgs.length === 0;
    });
    call.on('data', (m) => got.msgs.push(m));
    call.on('error', (err) => { got.err = err; resolve(got); });
    call.on('end', () => setImmediate(() => resolve(got)));
  });
}

const expectCode = (problems, err, code, message) => {
  if (!err) {
    problems.push(`no error: want ${grpc.status[code]}`);
    return;
  }
  if (err.code !== code) problems.push(`code ${grpc.status[err.code]} (${err.details}), want ${grpc.status[code]}`);
  if (message !== undefined && err.details !== message) problems.push(`message ${JSON.stringify(err.details)}, want ${JSON.stringify(message)}`);
};

const eq = (problems, what, got, want) => {
  if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${what}: ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
};

async function client(addr) {
  const c = new Streamer(addr, grpc.credentials.createInsecure());
  const deadline = () => ({ deadline: Date.now() + 20000 });
  const cases = {
    async 'server stream: events'(p) {
      const got = await serverStream(c.Watch({ prefix: 'e', count: 3 }, md('events'), deadline()));
      if (got.err) p.push(`error ${got.err.message}`);
      eq(p, 'events', got.msgs, [0, 1, 2].map((i) => ({ id: `e${i}`, kind: 'tick', seq: String(i) })));
      if (!got.headersBeforeData) p.push('the header did not arrive before the first event');
    },
    async 'server stream: strings'(p) {
      const got = await serverStream(c.Words({ text: 'one two  three' }, md('words'), deadline()));
      if (got.err) p.push(`error ${got.err.message}`);
      eq(p, 'words', got.msgs.map((m) => m.value), ['one', 'two', 'three']);
    },
    async 'server stream: an error after events'(p) {
      const got = await serverStream(c.Watch({ prefix: 'f', count: 2, fail: 'aborted' }, md('error after events'), deadline()));
      eq(p, 'events', got.msgs.map((m) => m.id), ['f0', 'f1']);
      expectCode(p, got.err, grpc.status.ABORTED, 'asked to fail with aborted');
    },
    async 'server stream: an open error'(p) {
      const got = await serverStream(c.Watch({ fail: 'not_found', open_fail: true }, md('open error'), deadline()));
      eq(p, 'events', got.msgs, []);
      expectCode(p, got.err, grpc.status.NOT_FOUND, 'asked to fail with not_found');
    },
    async 'server stream: the header arrives when the stream opens'(p) {
      // The first event is a minute away: the header must come first.
      const call = c.Watch({ count: 1, every_millis: 60000 }, md('header'), deadline());
      const done = serverStream(call);
      await withTimeout(new Promise((resolve) => call.on('metadata', resolve)), 15000, 'header');
      call.cancel();
      const got = await done;
      eq(p, 'events', got.msgs, []);
      expectCode(p, got.err, grpc.status.CANCELLED);
    },
    async 'server stream: cancel mid-stream'(p) {
      const call = c.Watch({ prefix: 'c', every_millis: 2 }, md('cancel'), deadline());
      const got = await new Promise((resolve) => {
        const g = { msgs: [], err: null };
        call.on('data', (m) => {
          g.msgs.push(m);
          if (g.msgs.length === 3) call.cancel();
        });
        call.on('error', (err) => { g.err = err; resolve(g); });
        call.on('end', () => setImmediate(() => resolve(g)));
      });
      if (got.msgs.length < 3) p.push(`${got.msgs.length} events before the cancel, want 3 or more`);
      expectCode(p, got.err, grpc.status.CANCELLED);
    },
    async 'server stream: deadline'(p) {
      // grpc-go's server ends a stream at its deadline with RST_STREAM
      // (CANCEL), which grpc-js reports as CANCELLED when it comes before
      // its own timer: either says the deadline ended the call.
      const got = await serverStream(c.Watch({ every_millis: 5 }, md('deadline'), { deadline: Date.now() + 300 }));
      if (!got.err || ![grpc.status.DEADLINE_EXCEEDED, grpc.status.CANCELLED].includes(got.err.code)) {
        p.push(`${got.err ? grpc.status[got.err.code] : 'no error'}, want DEADLINE_EXCEEDED (or CANCELLED)`);
      }
    },
    async 'client stream: a sum'(p) {
      const { err, reply } = await new Promise((resolve) => {
        const call = c.Upload(md('upload'), deadline(), (err, reply) => resolve({ err, reply }));
        for (const [data, n] of [['abc', 1], ['de', 2], ['', 3], ['fghi', 4]]) call.write({ data: Buffer.from(data), n });
        call.end();
      });
      if (err) p.push(`error ${err.message}`);
      eq(p, 'summary', reply, { bytes: '9', count: '4' });
    },
    async 'client stream: nothing'(p) {
      const { err, reply } = await new Promise((resolve) => {
        c.Upload(md('upload nothing'), deadline(), (err, reply) => resolve({ err, reply })).end();
      });
      if (err) p.push(`error ${err.message}`);
      eq(p, 'summary', reply, { bytes: '0', count: '0' });
    },
    async 'client stream: an invalid chunk'(p) {
      const { err } = await new Promise((resolve) => {
        const call = c.Upload(md('upload invalid'), deadline(), (err, reply) => resolve({ err, reply }));
        call.write({ data: Buffer.from('ok'), n: 1 });
        call.write({ data: Buffer.from('no'), n: -1 });
        call.end();
      });
      const message = "a chunk's n must not be negative";
      expectCode(p, err, grpc.status.INVALID_ARGUMENT, message);
      const st = err && badRequests(err);
      if (!st) {
        p.push('no grpc-status-details-bin');
      } else {
        eq(p, 'google.rpc.Status', [st.code, st.message], [grpc.status.INVALID_ARGUMENT, message]);
        eq(p, 'violations', st.violations, [{ field: 'n', description: 'must not be negative' }]);
      }
    },
    async 'bidi: a conversation'(p) {
      const call = c.Chat(md('chat'), deadline());
      const answers = [];
      let waiting = null;
      call.on('data', (m) => {
        answers.push(m);
        if (waiting) waiting();
      });
      const ended = new Promise((resolve) => {
        call.on('error', (err) => resolve(err));
        call.on('end', () => resolve(null));
      });
      for (let i = 0; i < 5; i++) {
        const answered = new Promise((resolve) => { waiting = resolve; });
        call.write({ id: `m${i}`, kind: 'question', seq: i });
        // The answer arrives while the call is open and before the next
        // message is written.
        await withTimeout(answered, 15000, `answer ${i}`);
        eq(p, `answer ${i}`, answers[i], { id: `m${i}`, kind: 'echo', seq: String(i) });
      }
      call.end();
      const err = await withTimeout(ended, 15000, 'end of the stream');
      if (err) p.push(`error ${err.message}`);
      eq(p, 'answers', answers.length, 5);
    },
    async 'bidi: a failure mid-conversation'(p) {
      const call = c.Chat(md('chat fail'), deadline());
      const got = serverStream(call);
      call.write({ id: 'a', kind: 'question' });
      call.write({ id: 'b', kind: 'fail' });
      const { msgs, err } = await got;
      eq(p, 'answers', msgs.map((m) => m.id), ['a']);
      expectCode(p, err, grpc.status.UNKNOWN);
      if (err && err.details.includes('not for the caller')) p.push(`internal text on the wire: ${err.details}`);
    },
    async 'bidi: cancel mid-conversation'(p) {
      const call = c.Chat(md('chat cancel'), deadline());
      const got = serverStream(call);
      call.write({ id: 'a', kind: 'question' });
      await withTimeout(new Promise((resolve) => call.once('data', resolve)), 15000, 'answer');
      call.cancel();
      expectCode(p, (await got).err, grpc.status.CANCELLED);
    },
  };
  let failed = 0;
  for (const [name, f] of Object.entries(cases)) {
    const problems = [];
    try {
      await f(problems);
    } catch (e) {
      problems.push(String(e && e.stack || e));
    }
    if (problems.length > 0) failed++;
    console.log(JSON.stringify({ case: name, ok: problems.length === 0, problems }));
  }
  c.close();
  process.exit(failed > 0 ? 1 : 0);
}

// server serves Streamer the way a grpc-js service is written.
function server() {
  const failures = { aborted: grpc.status.ABORTED, not_found: grpc.status.NOT_FOUND, cancelled: grpc.status.CANCELLED };
  const impl = {
    Watch(call) {
      const req = call.request;
      if (req.open_fail) {
        call.emit('error', { code: failures[req.fail] || grpc.status.UNKNOWN, details: `asked to fail with ${req.fail}` });
        return;
      }
      let i = 0;
      const count = Number(req.count);
      let timer = null;
      call.on('cancelled', () => {
        clearTimeout(timer);
        console.log(`cancelled Watch ${req.prefix}`);
      });
      const next = () => {
        if (call.cancelled) return;
        if (count > 0 && i >= count) {
          if (req.fail) {
            call.emit('error', { code: failures[req.fail] || grpc.status.UNKNOWN, details: `asked to fail with ${req.fail}` });
          } else {
            call.end();
          }
          return;
        }
        call.write({ id: `${req.prefix}${i}`, kind: 'tick', seq: i });
        i++;
        timer = setTimeout(next, Number(req.every_millis));
      };
      next();
    },
    Pointers(call) { impl.Watch(call); },
    Words(call) {
      for (const w of call.request.text.split(/\s+/).filter(Boolean)) call.write({ value: w });
      call.end();
    },
    Upload(call, callback) {
      let bytes = 0;
      let count = 0;
      let refused = false;
      call.on('data', (c) => {
        if (refused) return;
        if (Number(c.n) < 0) {
          refused = true;
          const message = 'the Node server refuses a negative n';
          const trailer = new grpc.Metadata();
          trailer.set('grpc-status-details-bin', statusDetails(grpc.status.INVALID_ARGUMENT, message, [{ field: 'n', description: 'must not be negative' }]));
          callback({ code: grpc.status.INVALID_ARGUMENT, details: message, metadata: trailer });
          return;
        }
        bytes += c.data.length;
        count++;
      });
      call.on('end', () => {
        if (!refused) callback(null, { bytes, count });
      });
    },
    Chat(call) {
      // A conversation needs the header before the first answer (see
      // TestNodeGRPCServer): the caller asks for it with x-header-first.
      if (call.metadata.get('x-header-first').length > 0) call.sendMetadata(new grpc.Metadata());
      call.on('data', (e) => {
        if (e.kind === 'fail') {
          call.emit('error', { code: grpc.status.FAILED_PRECONDITION, details: 'no failing today' });
          return;
        }
        call.write({ id: e.id, kind: 'echo', seq: e.seq });
      });
      call.on('end', () => call.end());
      call.on('cancelled', () => console.log(`cancelled Chat`));
    },
    Ping(call, callback) { callback(null, { value: call.request.id }); },
  };
  const s = new grpc.Server();
  s.addService(Streamer.service, impl);
  s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      console.error(err);
      process.exit(2);
    }
    console.log(`listening 127.0.0.1:${port}`);
  });
  process.stdin.resume();
  process.stdin.on('end', () => {
    s.forceShutdown();
    process.exit(0);
  });
}

const [mode, addr] = process.argv.slice(2);
if (mode === 'client' && addr) {
  client(addr).catch((e) => {
    console.error(e);
    process.exit(2);
  });
} else if (mode === 'server') {
  server();
} else {
  console.error('usage: node js/grpc_streams.js client ADDR | server');
  process.exit(2);
}
