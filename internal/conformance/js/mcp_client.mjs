// An MCP client of a kitgen-generated service written with no typedkit
// code: the official TypeScript SDK (@modelcontextprotocol/sdk) over
// streamable HTTP, and Ajv's draft 2020-12 validator for the schemas.
//
//   node js/mcp_client.mjs URL TOKEN
//
// URL serves the tools of examples/usersvc; TOKEN is a bearer token the
// server accepts for the write tools. It prints one JSON line per case,
// {"case", "ok", "problems"}, and exits 1 if any failed.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Ajv2020 from 'ajv/dist/2020.js';

const [url, token] = process.argv.slice(2);
if (!token) {
  console.error('usage: node js/mcp_client.mjs URL TOKEN');
  process.exit(2);
}

let failed = false;
async function check(name, fn) {
  const problems = [];
  const expect = (cond, msg) => { if (!cond) problems.push(msg); };
  try {
    await fn(expect);
  } catch (e) {
    problems.push(`threw: ${e && e.stack ? e.stack : e}`);
  }
  if (problems.length) failed = true;
  console.log(JSON.stringify({ case: name, ok: problems.length === 0, problems }));
}

async function connect(authorization) {
  const headers = authorization ? { Authorization: authorization } : {};
  const client = new Client({ name: 'conformance', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

// toolError returns the parsed JSON text of a tool error, or null.
function toolError(res) {
  if (!res.isError) return null;
  const text = res.content?.[0]?.text;
  try { return JSON.parse(text); } catch { return { unparsed: text }; }
}

const reader = await connect('');
const writer = await connect(`Bearer ${token}`);

await check('initialize', async (expect) => {
  const v = reader.getServerVersion();
  expect(v && v.name === 'usersvc.UserService', `server name ${JSON.stringify(v)}`);
  expect(reader.getServerCapabilities()?.tools, 'the server offers tools');
});

const { tools } = await reader.listTools();
await check('list tools', async (expect) => {
  const names = tools.map((t) => t.name).sort();
  expect(JSON.stringify(names) === JSON.stringify(['CreateUser', 'DeleteUser', 'GetUser', 'ListUsers', 'UpdateUser']), `tools ${names}`);
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  for (const t of tools) {
    expect(t.description && t.description.startsWith(t.name), `${t.name} has its doc comment as description: ${t.description}`);
    expect(t.inputSchema?.type === 'object', `${t.name} input schema is an object`);
    expect(t.outputSchema?.type === 'object', `${t.name} output schema is an object`);
    for (const [which, s] of [['input', t.inputSchema], ['output', t.outputSchema]]) {
      try { ajv.compile(s); } catch (e) { expect(false, `${t.name} ${which} schema is not valid JSON Schema 2020-12: ${e.message}`); }
    }
    const a = t.annotations ?? {};
    const read = t.name === 'GetUser' || t.name === 'ListUsers';
    expect(a.readOnlyHint === read, `${t.name} readOnlyHint ${a.readOnlyHint}`);
    if (!read) expect(a.destructiveHint === true, `${t.name} is marked as a write that may destroy: ${a.destructiveHint}`);
  }
});

await check('writes need a token', async (expect) => {
  const res = await reader.callTool({ name: 'CreateUser', arguments: { name: 'Ada', email: 'ada@example.com' } });
  const e = toolError(res);
  expect(e && e.code === 'unauthenticated', `no token: ${JSON.stringify(res)}`);
  const wrong = await connect('Bearer not-a-token');
  const res2 = await wrong.callTool({ name: 'CreateUser', arguments: { name: 'Ada', email: 'ada@example.com' } });
  expect(toolError(res2)?.code === 'unauthenticated', `bad token: ${JSON.stringify(res2)}`);
  expect(!JSON.stringify(res2).includes('not-a-token'), 'the token is not echoed');
  await wrong.close();
});

let id;
await check('create, get, update, list, delete', async (expect) => {
  // The SDK validates structuredContent against each tool's outputSchema.
  const created = await writer.callTool({ name: 'CreateUser', arguments: { name: 'Grace', email: 'grace@example.com' } });
  expect(!created.isError, `create: ${JSON.stringify(created)}`);
  const u = created.structuredContent;
  id = u?.id;
  expect(u && u.name === 'Grace' && u.email === 'grace@example.com' && typeof u.id === 'string', `created ${JSON.stringify(u)}`);
  expect(JSON.parse(created.content[0].text).id === id, 'the text content is the same JSON');
  expect(!Number.isNaN(Date.parse(u.created_at)), `created_at ${u.created_at}`);

  const got = await reader.callTool({ name: 'GetUser', arguments: { id } });
  expect(!got.isError && JSON.stringify(got.structuredContent) === JSON.stringify(u), `get: ${JSON.stringify(got)}`);

  const updated = await writer.callTool({ name: 'UpdateUser', arguments: { id, name: 'Grace H.', email: 'grace@example.com' } });
  expect(!updated.isError && updated.structuredContent.name === 'Grace H.', `update: ${JSON.stringify(updated)}`);

  const list = await reader.callTool({ name: 'ListUsers', arguments: { pageSize: 10, pageToken: '' } });
  expect(!list.isError && Array.isArray(list.structuredContent.users), `list: ${JSON.stringify(list)}`);
  expect(list.structuredContent.users.some((x) => x.id === id), 'the list holds the user');

  const del = await writer.callTool({ name: 'DeleteUser', arguments: { id } });
  expect(!del.isError, `delete: ${JSON.stringify(del)}`);
  const gone = await reader.callTool({ name: 'GetUser', arguments: { id } });
  expect(toolError(gone)?.code === 'not_found', `after delete: ${JSON.stringify(gone)}`);
});

await check('invalid arguments are tool errors', async (expect) => {
  const wrongType = await reader.callTool({ name: 'GetUser', arguments: { id: 42 } });
  const e1 = toolError(wrongType);
  expect(e1 && e1.code === 'invalid_argument' && e1.violations?.[0]?.field === 'id', `wrong type: ${JSON.stringify(wrongType)}`);
  const invalid = await writer.callTool({ name: 'CreateUser', arguments: { name: ' ', email: 'nope' } });
  const e2 = toolError(invalid);
  const fields = (e2?.violations ?? []).map((v) => v.field).sort();
  expect(e2 && e2.code === 'invalid_argument' && JSON.stringify(fields) === '["email","name"]', `violations: ${JSON.stringify(invalid)}`);
  const duplicate = await writer.callTool({ name: 'CreateUser', arguments: { name: 'Ada', email: 'ada2@example.com' } });
  const again = await writer.callTool({ name: 'CreateUser', arguments: { name: 'Ada', email: 'ada2@example.com' } });
  expect(!duplicate.isError && toolError(again)?.code === 'already_exists', `duplicate: ${JSON.stringify(again)}`);
});

await check('unknown tool', async (expect) => {
  let threw = false;
  try {
    const res = await reader.callTool({ name: 'DropTables', arguments: {} });
    threw = res.isError === true;
  } catch {
    threw = true;
  }
  expect(threw, 'an unknown tool is an error');
});

await reader.close();
await writer.close();
process.exit(failed ? 1 : 0);
