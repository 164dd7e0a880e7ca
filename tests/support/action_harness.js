// Runs a rendered post-login Action the way Auth0 does, one login per JSON line on stdin.
//
// The `event` and `api` objects follow Auth0's post-login trigger: app_metadata set with
// api.user.setAppMetadata is saved when the execution ends and seen by the user's next login;
// api.cache keeps string values across executions with Auth0's limits; api.access.deny ends
// the login. Each answer is one JSON line on stdout.
"use strict";

const readline = require("node:readline");
const { performance } = require("node:perf_hooks");

const CACHE_LIMITS = { keyBytes: 64, valueBytes: 4096, entries: 20, maxTtlMs: 86400000, defaultTtlMs: 900000 };

const realNow = Date.now;
let clockOffsetMs = 0;
Date.now = () => realNow() + clockOffsetMs;

const users = new Map();
const cache = new Map();
const cacheErrors = [];
const unhandled = [];
process.on("unhandledRejection", (reason) => unhandled.push(String(reason && reason.name)));

let action;
let secrets;

const cacheApi = {
  get(key) {
    const record = cache.get(key);
    if (!record || record.expires_at <= Date.now()) {
      cache.delete(key);
      return undefined;
    }
    return { value: record.value, expires_at: record.expires_at };
  },
  set(key, value, options = {}) {
    const problem =
      Buffer.byteLength(key) > CACHE_LIMITS.keyBytes ? "KEY_TOO_LARGE"
      : typeof value !== "string" ? "VALUE_NOT_STRING"
      : Buffer.byteLength(value) > CACHE_LIMITS.valueBytes ? "VALUE_TOO_LARGE"
      : !cache.has(key) && cache.size >= CACHE_LIMITS.entries ? "TOO_MANY_ENTRIES"
      : options.ttl !== undefined && options.ttl > CACHE_LIMITS.maxTtlMs ? "TTL_TOO_LONG"
      : null;
    if (problem) {
      cacheErrors.push(problem);
      return { type: "error", code: problem };
    }
    const ttl = options.expires_at !== undefined ? options.expires_at - Date.now() : options.ttl ?? CACHE_LIMITS.defaultTtlMs;
    cache.set(key, { value, expires_at: Date.now() + ttl });
    return { type: "success" };
  },
  delete(key) {
    cache.delete(key);
    return { type: "success" };
  },
};

function sdkLoaded() {
  return Object.keys(require.cache).some((path) => path.includes("/node_modules/auth0/"));
}

async function login(request) {
  const stored = users.get(request.user.user_id) || { app_metadata: {}, ...request.user };
  const user = structuredClone({ ...stored, ...request.user, app_metadata: { ...stored.app_metadata, ...(request.user.app_metadata || {}) } });
  const updates = {};
  let denied = null;
  const api = {
    user: {
      setAppMetadata(key, value) {
        updates[key] = value;
        return api;
      },
    },
    access: {
      deny(reason) {
        denied = reason;
        return api;
      },
    },
    cache: cacheApi,
  };
  const event = {
    user,
    connection: request.connection,
    organization: request.organization || undefined,
    secrets,
    request: { ip: "127.0.0.1" },
  };

  const logs = [];
  const original = { log: console.log, warn: console.warn, error: console.error };
  console.log = console.warn = console.error = (...parts) => logs.push(parts.map(String).join(" "));
  const started = performance.now();
  let thrown = null;
  try {
    await action.onExecutePostLogin(event, api);
  } catch (error) {
    thrown = String(error && error.name);
  } finally {
    Object.assign(console, original);
  }
  const ms = performance.now() - started;
  // Auth0 saves app_metadata changes when the execution ends.
  users.set(user.user_id, { ...user, app_metadata: { ...user.app_metadata, ...updates } });
  return { logs, denied, app_metadata_set: Object.keys(updates).length ? updates : null, ms, thrown, sdk_loaded: sdkLoaded() };
}

const operations = {
  init(request) {
    secrets = Object.freeze({ ...request.secrets });
    const started = performance.now();
    action = require(request.code_path);
    return { load_ms: performance.now() - started, sdk_loaded: sdkLoaded() };
  },
  login,
  advance_clock(request) {
    clockOffsetMs += request.ms;
    return {};
  },
  state() {
    return { cache_keys: [...cache.keys()], cache_errors: cacheErrors, unhandled_rejections: unhandled };
  },
};

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    const request = JSON.parse(line);
    let answer;
    try {
      answer = await operations[request.op](request);
    } catch (error) {
      answer = { harness_error: String(error && error.stack) };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  });
});
lines.on("close", () => queue.then(() => process.exit(0)));
