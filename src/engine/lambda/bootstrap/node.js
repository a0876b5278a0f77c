// firelocal's Node.js runtime loop: AWS Lambda's handler contract (async handlers and
// callbacks) over the Lambda Runtime API, with Node's standard library only.
'use strict';
const http = require('http');
const path = require('path');

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const BASE = '/2018-06-01/runtime';

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request({ host: HOST, port: PORT, path: BASE + p, method, headers: Object.assign({}, headers || {}, data ? { 'content-length': data.length } : {}) }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// console.* lines carry the time, the request id and the level, as in AWS's Node.js runtime.
let currentRequestId = 'undefined';
for (const [method, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE']]) {
  const util = require('util');
  console[method] = (...args) => {
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${util.format(...args)}\n`);
  };
}

function errorBody(err, kind) {
  return {
    errorType: kind || (err && err.name) || 'Error',
    errorMessage: err && err.message !== undefined ? err.message : String(err),
    trace: err && err.stack ? String(err.stack).split('\n') : [],
  };
}

async function loadHandler() {
  const spec = process.env._HANDLER;
  const dot = spec.lastIndexOf('.');
  if (dot < 0) throw Object.assign(new Error(`Bad handler ${spec}`), { kind: 'Runtime.MalformedHandlerName' });
  const modulePath = path.resolve(process.env.LAMBDA_TASK_ROOT || '.', spec.slice(0, dot));
  const fnName = spec.slice(dot + 1);
  let mod;
  try {
    try {
      mod = require(modulePath);
    } catch (e) {
      if (e && e.code === 'ERR_REQUIRE_ESM') mod = await import(modulePath + '.mjs');
      else throw e;
    }
  } catch (e) {
    throw Object.assign(new Error(`${e && e.code === 'MODULE_NOT_FOUND' ? 'Error: Cannot find module' : 'Error'} '${spec.slice(0, dot)}': ${e.message}`), { kind: 'Runtime.ImportModuleError' });
  }
  const fn = mod[fnName];
  if (typeof fn !== 'function') throw Object.assign(new Error(`${spec} is undefined or not exported`), { kind: 'Runtime.HandlerNotFound' });
  return fn;
}

function invoke(fn, event, context) {
  return new Promise((resolve, reject) => {
    let done = false;
    const callback = (err, result) => { if (done) return; done = true; if (err) reject(err); else resolve(result); };
    try {
      const out = fn(event, context, callback);
      if (out && typeof out.then === 'function') out.then((r) => callback(null, r), (e) => callback(e));
      else if (fn.length < 3) callback(null, out);
    } catch (e) {
      callback(e);
    }
  });
}

async function main() {
  let fn;
  try {
    fn = await loadHandler();
  } catch (e) {
    console.error(`${e.kind}: ${e.message}`);
    await request('POST', '/init/error', { errorType: e.kind, errorMessage: e.message, trace: [] }, { 'Lambda-Runtime-Function-Error-Type': e.kind });
    process.exit(1);
  }
  for (;;) {
    const next = await request('GET', '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = id;
    const deadline = Number(next.headers['lambda-runtime-deadline-ms'] || 0);
    process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'] || '';
    const context = {
      awsRequestId: id,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    try {
      const event = next.body ? JSON.parse(next.body) : null;
      const result = await invoke(fn, event, context);
      await request('POST', `/invocation/${id}/response`, JSON.stringify(result === undefined ? null : result));
    } catch (e) {
      const body = errorBody(e);
      console.error(`Invoke Error \t${JSON.stringify(body)}`);
      await request('POST', `/invocation/${id}/error`, body, { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' });
    }
  }
}

main();
