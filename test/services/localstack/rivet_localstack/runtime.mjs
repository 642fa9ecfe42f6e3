// One Lambda execution environment as a host Node.js process, started by host_lambda.py.
// It plays the part of LocalStack's in-container init: loads the handler named by _HANDLER
// from /var/task, tells LocalStack it is ready, serves POST /invoke on 127.0.0.1, and posts
// each call's logs and then its response or error back to LocalStack's runtime endpoint.
// One call at a time (LocalStack sends the next only after the previous one answered).
import http from 'node:http';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { pathToFileURL } from 'node:url';

const env = process.env;
const endpoint = env.LOCALSTACK_RUNTIME_ENDPOINT; // http://127.0.0.1:4566/_localstack_lambda/<id>
const runtimeId = env.LOCALSTACK_RUNTIME_ID;
const port = Number(env.RIVET_LS_INVOKE_PORT);
const timeoutMs = Number(env.AWS_LAMBDA_FUNCTION_TIMEOUT ?? 3) * 1000;
const taskRoot = env.LAMBDA_TASK_ROOT ?? '/var/task';

async function post(route, body, contentType = 'application/json') {
  const res = await fetch(`${endpoint}/${route}`, { method: 'POST', body, headers: { 'content-type': contentType } });
  if (!res.ok && res.status !== 202) process.stderr.write(`runtime: POST ${route} answered ${res.status}\n`);
}

/** The error document Lambda's Node.js runtime returns for a thrown value. */
function errorDocument(err, fallbackType) {
  if (err instanceof Error) {
    return { errorType: err.name || fallbackType, errorMessage: err.message, trace: String(err.stack ?? '').split('\n') };
  }
  return { errorType: fallbackType, errorMessage: typeof err === 'string' ? err : JSON.stringify(err) ?? String(err), trace: [] };
}

async function loadHandler() {
  const spec = env._HANDLER ?? 'index.handler';
  const dot = spec.lastIndexOf('.');
  const [modulePart, fnName] = [spec.slice(0, dot), spec.slice(dot + 1)];
  const base = path.resolve(taskRoot, modulePart);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) throw Object.assign(new Error(`Cannot find module '${modulePart}'`), { name: 'Runtime.ImportModuleError' });
  const mod = await import(pathToFileURL(file).href);
  const fn = mod[fnName] ?? mod.default?.[fnName];
  if (typeof fn !== 'function') throw Object.assign(new Error(`${spec} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  return fn;
}

// Everything the function prints during a call is also kept for the call's log record.
let callLog = null;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    if (callLog) callLog.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return write(chunk, ...rest);
  };
}

let current = null; // the call in flight: { id, settle }

function invoke(handler, msg) {
  const id = msg['invoke-id'];
  const started = Date.now();
  const deadline = started + timeoutMs;
  callLog = [];
  process.stdout.write(`START RequestId: ${id} Version: ${env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST'}\n`);
  const context = {
    awsRequestId: id,
    invokedFunctionArn: msg['invoked-function-arn'],
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  let settled = false;
  const settle = async (route, body) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    process.stdout.write(`END RequestId: ${id}\nREPORT RequestId: ${id}\tDuration: ${(Date.now() - started).toFixed(2)} ms\n`);
    const logs = callLog.join('');
    callLog = null;
    current = null;
    await post(`invocations/${id}/logs`, JSON.stringify({ logs }));
    await post(`invocations/${id}/${route}`, body);
  };
  current = { id, settle };
  // Lambda stops a call at its timeout and starts the sandbox afresh: so does this process
  // (host_lambda.py starts a new one when it exits).
  const timer = setTimeout(() => {
    const doc = { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${id} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` };
    void settle('error', JSON.stringify(doc)).finally(() => process.exit(1));
  }, timeoutMs);

  let event;
  try {
    event = JSON.parse(msg.payload);
  } catch (err) {
    void settle('error', JSON.stringify(errorDocument(err, 'Runtime.UnmarshalError')));
    return;
  }
  new Promise((resolve, reject) => {
    // Callback-style handlers take three arguments; async ones return a promise.
    const result = handler(event, context, (err, value) => (err ? reject(err) : resolve(value)));
    if (handler.length < 3 || (result && typeof result.then === 'function')) Promise.resolve(result).then(resolve, reject);
  }).then(
    (value) => settle('response', JSON.stringify(value === undefined ? null : value)),
    (err) => settle('error', JSON.stringify(errorDocument(err, 'Error'))),
  );
}

function crash(kind) {
  return (err) => {
    const doc = errorDocument(err, kind);
    doc.errorType = kind;
    process.stderr.write(`${kind}: ${doc.errorMessage}\n`);
    const done = current ? current.settle('error', JSON.stringify(doc)) : Promise.resolve();
    void done.finally(() => process.exit(1));
  };
}
process.on('uncaughtException', crash('Runtime.UncaughtException'));
process.on('unhandledRejection', crash('Runtime.UnhandledPromiseRejection'));

let handler;
try {
  handler = await loadHandler();
} catch (err) {
  process.stderr.write(`runtime: init failed: ${err?.stack ?? err}\n`);
  await post(`status/${runtimeId}/error`, JSON.stringify(errorDocument(err, 'Runtime.ImportModuleError')));
  process.exit(1);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/invoke') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (current) {
      res.writeHead(409).end('a call is already in flight');
      return;
    }
    res.writeHead(200).end();
    invoke(handler, JSON.parse(Buffer.concat(chunks).toString('utf8')));
  });
});
server.listen(port, '127.0.0.1', () => {
  void post(`status/${runtimeId}/ready`, '');
});
