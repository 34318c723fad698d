// A gRPC client of a kitgen-generated service written with no typedkit
// code: @grpc/grpc-js for the calls, @grpc/proto-loader (protobuf.js) to
// encode and decode the messages from the .proto kitgen emitted.
//
//   node js/grpc_client.js ADDR PROTO SERVICE SUITE
//
// SUITE names a module of this directory (shapes, pending) that exports
// the values of each method and the calls to make. Each call sends a
// request value, asks (in the x-send and x-reply metadata) for a reply
// value, and compares what it decoded with that value field by field. It
// prints one JSON line per call and exits 1 if any failed.
'use strict';

const path = require('path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
const { ABSENT, compare } = require('./compare');

const [addr, protoPath, serviceName, suiteName] = process.argv.slice(2);
if (!suiteName) {
  console.error('usage: node js/grpc_client.js ADDR PROTO SERVICE SUITE');
  process.exit(2);
}

// What a protobuf client in JavaScript usually asks of protobuf.js: 64-bit
// integers as decimal strings (no precision lost), enums as numbers (open
// enums keep unknown values), bytes as Buffers, field names as in the
// .proto, and absent fields with their default values.
const options = {
  keepCase: true, longs: String, enums: Number, bytes: Buffer, defaults: true,
  includeDirs: [path.dirname(path.resolve(protoPath)), '/usr/include'],
};
const definition = loader.loadSync(path.basename(protoPath), options);
const Service = serviceName.split('.').reduce((o, k) => o[k], grpc.loadPackageDefinition(definition));
if (typeof Service !== 'function') {
  console.error(`no service ${serviceName} in ${protoPath}`);
  process.exit(2);
}
const client = new Service(addr, grpc.credentials.createInsecure());

const rpc = new protobuf.Root().loadSync(path.join(__dirname, 'google_rpc.proto'), { keepCase: true });
const Status = rpc.lookupType('google.rpc.Status');
const BadRequest = rpc.lookupType('google.rpc.BadRequest');

// statusDetails decodes the google.rpc.Status of an error's
// grpc-status-details-bin trailer, with its BadRequest details.
function statusDetails(err) {
  const bin = err.metadata && err.metadata.get('grpc-status-details-bin');
  if (!bin || bin.length === 0) return null;
  const st = Status.toObject(Status.decode(bin[0]), { longs: String, defaults: true });
  st.badRequests = st.details
    .filter((d) => d.type_url === 'type.googleapis.com/google.rpc.BadRequest')
    .map((d) => BadRequest.toObject(BadRequest.decode(d.value), { defaults: true }));
  return st;
}

// stripAbsent returns a request value without its ABSENT fields: they are
// not sent.
function stripAbsent(v) {
  if (v === ABSENT) return undefined;
  if (Array.isArray(v) || Buffer.isBuffer(v) || v === null || typeof v !== 'object') return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) {
    if (x !== ABSENT) out[k] = stripAbsent(x);
  }
  return out;
}

function call(method, request, metadata) {
  return new Promise((resolve) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(metadata)) md.set(k, v);
    client[method](request, md, { deadline: Date.now() + 20000 }, (err, reply) => resolve({ err, reply }));
  });
}

async function main() {
  const suite = require(`./${suiteName}`);
  let failed = 0;
  const report = (name, problems) => {
    if (problems.length > 0) failed++;
    console.log(JSON.stringify({ case: name, ok: problems.length === 0, problems }));
  };

  // Values: each method's requests are sent, its replies asked for, in a
  // cycle that sends every request and asks for every reply at least once.
  for (const [method, { requests, replies, fix }] of Object.entries(suite.values)) {
    const sends = Object.keys(requests).sort();
    const asks = Object.keys(replies).sort();
    const n = Math.max(sends.length, asks.length);
    for (let i = 0; i < n; i++) {
      const send = sends[i % sends.length];
      const ask = asks[(i + 1) % asks.length];
      const name = `${method} ${send} -> ${ask}`;
      const { err, reply } = await call(method, stripAbsent(requests[send]), { 'x-send': send, 'x-reply': ask });
      if (err) {
        report(name, [`${method}: ${grpc.status[err.code]} ${err.details}`]);
        continue;
      }
      const problems = [];
      compare(replies[ask], fix ? fix(reply) : reply, method, problems);
      report(name, problems);
    }
  }

  // Errors: the status code, the message and the violations in the
  // status details.
  for (const c of suite.errors || []) {
    const name = `${c.method} ${c.name}`;
    const { err } = await call(c.method, c.request, {});
    const problems = [];
    if (!err) {
      report(name, ['the call succeeded; want an error']);
      continue;
    }
    if (err.code !== c.code) problems.push(`code ${grpc.status[err.code]} (${err.code}), want ${grpc.status[c.code]} (${c.code})`);
    if (c.message !== undefined && err.details !== c.message) problems.push(`message ${JSON.stringify(err.details)}, want ${JSON.stringify(c.message)}`);
    const st = statusDetails(err);
    if (c.violations) {
      if (!st) {
        problems.push('no grpc-status-details-bin: want a google.rpc.Status with a BadRequest');
      } else {
        if (st.code !== c.code) problems.push(`google.rpc.Status code ${st.code}, want ${c.code}`);
        if (st.message !== c.message) problems.push(`google.rpc.Status message ${JSON.stringify(st.message)}, want ${JSON.stringify(c.message)}`);
        if (st.badRequests.length !== 1) {
          problems.push(`${st.badRequests.length} BadRequest details, want 1 (details: ${st.details.map((d) => d.type_url).join(', ')})`);
        } else {
          compare(c.violations, st.badRequests[0].field_violations, 'field_violations', problems);
        }
      }
    } else if (st && st.badRequests.length > 0) {
      problems.push('a BadRequest detail on an error without violations');
    }
    report(name, problems);
  }

  client.close();
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
