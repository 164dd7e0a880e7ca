// One Auth0 Actions container: runs one deployed post-login Action version, one execution per
// JSON line on stdin, each answered by one JSON line on stdout (localtenant/logins.py).
//
// The `api` object follows Auth0's post-login trigger: api.user.setAppMetadata changes are
// returned for the tenant to save when the execution ends; api.cache keeps string values
// across executions of this container within Auth0's limits; api.access.deny ends the login.
// Module state (the code's own variables) lives as long as the container, as at Auth0.
"use strict";

const readline = require("node:readline");
const { AsyncLocalStorage } = require("node:async_hooks");
const { performance } = require("node:perf_hooks");

const CACHE_LIMITS = { keyBytes: 64, valueBytes: 4096, entries: 20, maxTtlMs: 86400000, defaultTtlMs: 900000 };

const realNow = Date.now;
let clockOffsetMs = 0;
Date.now = () => realNow() + clockOffsetMs;

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

// Executions overlap, so console output goes to the log of the execution that wrote it.
const executionLogs = new AsyncLocalStorage();
console.log = console.warn = console.error = (...parts) => {
  const logs = executionLogs.getStore();
  if (logs) {
    logs.push(parts.map(String).join(" "));
  }
};

function modulesLoaded() {
  return Object.keys(require.cache).filter((path) => path.includes("/node_modules/")).length;
}

async function login(request) {
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
  const event = deepFreeze({ ...request.event, secrets });

  const logs = [];
  const started = performance.now();
  let thrown = null;
  try {
    await executionLogs.run(logs, () => action.onExecutePostLogin(event, api));
  } catch (error) {
    thrown = String(error && error.name);
  }
  const ms = performance.now() - started;
  return { logs, denied, app_metadata_set: Object.keys(updates).length ? updates : null, ms, thrown, modules_loaded: modulesLoaded() };
}

// Auth0's event is read-only to the Action.
function deepFreeze(value) {
  if (value && typeof value === "object") {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

const operations = {
  init(request) {
    secrets = Object.freeze({ ...request.secrets });
    const started = performance.now();
    action = require(request.code_path);
    return { load_ms: performance.now() - started, modules_loaded: modulesLoaded(), node: process.version };
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

// Executions run concurrently, as in one Auth0 container; each answer carries its request's id.
const lines = readline.createInterface({ input: process.stdin });
const running = [];
lines.on("line", (line) => {
  const request = JSON.parse(line);
  const done = (async () => {
    let answer;
    try {
      answer = await operations[request.op](request);
    } catch (error) {
      answer = { harness_error: String(error && error.stack) };
    }
    process.stdout.write(JSON.stringify({ ...answer, id: request.id }) + "\n");
  })();
  running.push(done);
});
lines.on("close", () => Promise.all(running).then(() => process.exit(0)));
