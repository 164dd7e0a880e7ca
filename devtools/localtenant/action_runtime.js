// One Auth0 Actions container: runs one deployed post-login Action version, one execution per
// JSON line on stdin, each answered by one JSON line on stdout (localtenant/logins.py).
//
// The `api` object follows Auth0's post-login trigger
// (https://auth0.com/docs/customize/actions/explore-triggers/signup-and-login-triggers/login-trigger/post-login-api-object):
// api.user.setAppMetadata changes are returned for the tenant to save when the execution ends;
// api.idToken and api.accessToken's custom claims are returned for the tokens the login issues;
// api.access.deny ends the login; api.cache is described below. Module state (the code's own
// variables) lives as long as the container, as at Auth0.
//
// An execution ends when the Action's promise settles or when its `timeout_ms` (what is left of
// the flow's 20 seconds, https://auth0.com/docs/customize/actions/limitations, "Executions")
// runs out: the answer then says `failed: {kind: "timeout"}`, and what the Action does later is
// dropped. An Action that throws or rejects answers `failed: {kind: "thrown", message}`.
"use strict";

const readline = require("node:readline");
const { AsyncLocalStorage } = require("node:async_hooks");
const { performance } = require("node:perf_hooks");

// https://auth0.com/docs/customize/actions/limitations, "Cached data": 24 hours at most, 20
// entries per trigger, keys of 64 bytes and values of 4 kB at most, keys and values 8 kB in
// all. The post-login api object page gives the default lifetime (24 hours) and says that
// with both `ttl` and `expires_at` the earlier expiry wins. Auth0 documents that a failed
// set answers {type: "error", code} without listing the codes; these name the limit.
const CACHE_LIMITS = {
  keyBytes: 64,
  valueBytes: 4096,
  totalBytes: 8192,
  entries: 20,
  maxTtlMs: 86400000,
  defaultTtlMs: 86400000,
};

const realNow = Date.now;
let clockOffsetMs = 0;
Date.now = () => realNow() + clockOffsetMs;

// api.cache belongs to the trigger, not to the container: the tenant sends the trigger's
// cache with each execution (`request.cache`) and saves the execution's `cache_changes` when
// it ends, so every Action bound to the trigger, and every later version, sees it. An
// execution sent without a cache (a harness driving the container directly) uses the
// container's own copy: the last cache it was sent, with the changes made since.
let containerCache = new Map();
const cacheErrors = [];
const unhandled = [];
process.on("unhandledRejection", (reason) => unhandled.push(String(reason && reason.name)));

let action;
let secrets;

function entryBytes(key, record) {
  return Buffer.byteLength(key) + Buffer.byteLength(record.value);
}

function cacheApi(view, changes) {
  const live = (key) => {
    const record = view.get(key);
    if (record && record.expires_at <= Date.now()) {
      view.delete(key);
      changes[key] = null;
      return undefined;
    }
    return record;
  };
  const fail = (code) => {
    cacheErrors.push(code);
    return { type: "error", code };
  };
  return {
    get(key) {
      const record = live(key);
      return record ? { value: record.value, expires_at: record.expires_at } : undefined;
    },
    set(key, value, options = {}) {
      if (typeof key !== "string" || Buffer.byteLength(key) > CACHE_LIMITS.keyBytes) {
        return fail("KEY_TOO_LARGE");
      }
      if (typeof value !== "string") {
        return fail("VALUE_NOT_STRING");
      }
      if (Buffer.byteLength(value) > CACHE_LIMITS.valueBytes) {
        return fail("VALUE_TOO_LARGE");
      }
      if (options.ttl !== undefined && options.ttl > CACHE_LIMITS.maxTtlMs) {
        return fail("TTL_TOO_LONG");
      }
      const now = Date.now();
      const expiries = [];
      if (options.ttl !== undefined) expiries.push(now + options.ttl);
      if (options.expires_at !== undefined) expiries.push(options.expires_at);
      const expiresAt = Math.min(now + CACHE_LIMITS.maxTtlMs, ...(expiries.length ? expiries : [now + CACHE_LIMITS.defaultTtlMs]));
      const others = [...view.keys()].filter((other) => other !== key && live(other));
      if (others.length >= CACHE_LIMITS.entries) {
        return fail("TOO_MANY_ENTRIES");
      }
      const record = { value, expires_at: expiresAt };
      const total = others.reduce((sum, other) => sum + entryBytes(other, view.get(other)), entryBytes(key, record));
      if (total > CACHE_LIMITS.totalBytes) {
        return fail("CACHE_FULL");
      }
      view.set(key, record);
      changes[key] = record;
      return { type: "success" };
    },
    delete(key) {
      view.delete(key);
      changes[key] = null;
      return { type: "success" };
    },
  };
}

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

function describe(error) {
  if (error instanceof Error) {
    return `${error.name}: ${error.message}`;
  }
  return String(error);
}

const TIMED_OUT = Symbol("timed out");

async function login(request) {
  const updates = {};
  const claims = { id_token: {}, access_token: {} };
  let denied = null;
  const view = request.cache ? new Map(Object.entries(request.cache)) : containerCache;
  const changes = {};
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
    idToken: {
      setCustomClaim(name, value) {
        claims.id_token[name] = value;
        return api;
      },
    },
    accessToken: {
      setCustomClaim(name, value) {
        claims.access_token[name] = value;
        return api;
      },
    },
    cache: cacheApi(view, changes),
  };
  const event = deepFreeze({ ...request.event, secrets });

  const logs = [];
  const started = performance.now();
  let thrown = null;
  let failed = null;
  let timer;
  try {
    const run = executionLogs.run(logs, () => action.onExecutePostLogin(event, api));
    const outcome =
      request.timeout_ms == null
        ? await run
        : await Promise.race([
            run,
            new Promise((resolve) => {
              timer = setTimeout(resolve, Math.max(0, request.timeout_ms), TIMED_OUT);
            }),
          ]);
    if (outcome === TIMED_OUT) {
      failed = timedOut(request);
    }
  } catch (error) {
    thrown = String(error && error.name);
    failed = { kind: "thrown", message: describe(error) };
  } finally {
    clearTimeout(timer);
  }
  const ms = performance.now() - started;
  // Code that blocks the event loop delays the timer past the deadline: the clock decides,
  // so an Action that finished late failed, however it finished.
  if (request.timeout_ms != null && ms > request.timeout_ms && failed?.kind !== "timeout") {
    failed = timedOut(request);
  }
  if (request.cache) {
    containerCache = view;
  }
  const answer = {
    logs: [...logs],
    denied,
    app_metadata_set: Object.keys(updates).length ? { ...updates } : null,
    claims,
    ms,
    thrown,
    modules_loaded: modulesLoaded(),
    failed,
  };
  // Only the tenant, which sent the cache, applies the changes.
  return request.cache ? { ...answer, cache_changes: { ...changes } } : answer;
}

/** @param {{flow_timeout_s?: number}} request */
function timedOut(request) {
  return { kind: "timeout", message: `the flow did not finish within ${request.flow_timeout_s ?? 20} seconds` };
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
    const now = Date.now();
    const keys = [...containerCache.entries()].filter(([, record]) => record.expires_at > now).map(([key]) => key);
    return { cache_keys: keys, cache_errors: cacheErrors, unhandled_rejections: unhandled };
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
