// @ts-check
/**
 * The Management API as the Action uses it: the only calls it can make (contract.json's
 * endpoints, from which the stack derives the grant's scopes), a client-credentials token shared
 * across executions through api.cache, and requests that end by each login's deadline.
 *
 * Node's own https module, not fetch: fetch loads its HTTP client on first use, which a cold
 * container pays on its first login (bench/action_bench.py measures both).
 *
 * api.cache is the trigger's, shared with every other Action bound to the Login flow (and their
 * npm packages). So the token is kept there sealed (AES-256-GCM, with a key derived from the
 * client secret, which only this Action holds) under a key derived from it too: another Action
 * can neither read nor forge it, and a rotated secret starts afresh.
 */
"use strict";

const crypto = require("node:crypto");
const https = require("node:https");
const contract = require("./contract.json");

/**
 * Every Management API call the Action may make. Requests name one of these; there is no other
 * way to send one, so this list is what the grant must allow.
 */
const ENDPOINTS = Object.freeze(contract.endpoints);

/** @typedef {keyof typeof ENDPOINTS} Endpoint */

/**
 * The Action secrets the stack sets (auth0_org_assignment/desired_state.py).
 * @typedef {{ TENANT_DOMAIN: string, CLIENT_ID: string, CLIENT_SECRET: string }} Secrets
 */

/**
 * Auth0's api.cache, as far as the Action uses it.
 * @typedef {object} Cache
 * @property {(key: string) => { value: unknown } | undefined} get
 * @property {(key: string, value: string, options: { ttl: number }) => unknown} set
 */

/**
 * An answer: its status, a header by lowercase name, and its body as JSON (null if not JSON).
 * @typedef {{ status: number, header: (name: string) => string | null, json: () => unknown }} Answer
 */

// Drop a cached token a minute before Auth0 would refuse it; api.cache keeps nothing past 24 h.
const TOKEN_EXPIRY_MARGIN_MS = 60 * 1000;
const CACHE_MAX_TTL_MS = 24 * 60 * 60 * 1000;
// api.cache keys are at most 64 bytes.
const CACHE_KEY_MAX = 64;
// A retry is only worth sending when it can still finish in time.
const RETRY_FLOOR_MS = 250;
// The wait before a retry when the answer says nothing of when to come back.
const DEFAULT_RETRY_MS = 100;
// The Management API's answers to these calls are small; a larger body is not one of them.
const ANSWER_MAX_BYTES = 64 * 1024;

// Kept-alive connections: a container's later requests skip the TLS handshake.
const agent = new https.Agent({ keepAlive: true });

/**
 * Token requests in flight in this container, by client id: concurrent first logins share one.
 * @type {Map<string, SharedRequest>}
 */
const tokenRequests = new Map();

class DeadlinePassed extends Error {}

class UnexpectedAnswer extends Error {
  /** @param {number} status */
  constructor(status) {
    super(`unexpected answer ${status}`);
    this.status = status;
  }
}

class ManagementSession {
  /**
   * @param {Secrets} secrets
   * @param {Cache} cache  api.cache
   * @param {AbortSignal} signal  aborted at this login's deadline
   * @param {number} deadline  the Date.now() by which this login must be done
   */
  constructor(secrets, cache, signal, deadline) {
    this.secrets = secrets;
    this.cache = cache;
    this.signal = signal;
    this.deadline = deadline;
    /** Where this login's token came from: "cache", or "fetched" when it asked for one. */
    this.tokenSource = "cache";
    this.vault = vaultOf(secrets);
  }

  /**
   * One call. A 401 or 403 fetches one new token (a revoked one, or one issued before the
   * grant changed); a 429 or 5xx is retried once, when the wait fits before the deadline.
   * @param {Endpoint} endpoint
   * @param {Record<string, string>} params  the path's {placeholders}
   * @param {unknown} [body]
   * @param {() => void} [sending]  called as the request leaves, token in hand
   * @returns {Promise<Answer>}
   */
  async call(endpoint, params, body, sending) {
    const { method, path } = ENDPOINTS[endpoint];
    const target = `/api/v2${path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(params[name]))}`;
    let renewed = false;
    let retried = false;
    for (;;) {
      const token = await this.token(renewed);
      sending?.();
      const answer = await send(this.secrets.TENANT_DOMAIN, method, target, body, this.signal, token);
      if ((answer.status === 401 || answer.status === 403) && !renewed) {
        renewed = true;
        continue;
      }
      if (retryable(answer) && !retried && fitsBefore(this.deadline, answer)) {
        retried = true;
        await sleep(retryDelayMs(answer), this.signal);
        continue;
      }
      if (answer.status === 401 || answer.status === 403 || retryable(answer)) {
        throw new UnexpectedAnswer(answer.status);
      }
      return answer;
    }
  }

  /**
   * The cached token, or one requested now and shared with every login of this container that
   * asks meanwhile. Each login waits for it until its own deadline only, and the request lasts
   * until the last deadline of those waiting; one that every login waiting for it gave up on is
   * ended, and a login that asks after that requests a new one rather than join it.
   * @param {boolean} renew  refuse the cached one
   * @returns {Promise<string>}
   */
  async token(renew) {
    if (!renew) {
      const cached = this.cache.get(this.vault.key);
      const token = cached && typeof cached.value === "string" ? this.vault.open(cached.value) : null;
      if (token !== null) {
        return token;
      }
    }
    const clientId = this.secrets.CLIENT_ID;
    let shared = tokenRequests.get(clientId);
    if (!shared || renew || !shared.open) {
      const started = new SharedRequest((signal, until) =>
        requestToken(this.secrets, this.cache, this.vault, signal, until),
      );
      started.promise
        .finally(() => {
          if (tokenRequests.get(clientId) === started) {
            tokenRequests.delete(clientId);
          }
        })
        // Every login waiting for it may have given up by the time it fails.
        .catch(() => {});
      tokenRequests.set(clientId, started);
      shared = started;
    }
    const token = await shared.wait(this.signal, this.deadline);
    this.tokenSource = "fetched";
    return token;
  }
}

/**
 * A request several logins wait for: aborted once the last of them gives up (or the last of
 * their deadlines has passed), so it neither ends with the first login that gives up nor
 * outlives everyone who wants it; and once every login waiting for it has given up, nobody new
 * joins it: it is being ended, and would fail whoever did.
 */
class SharedRequest {
  /** @param {(signal: AbortSignal, until: () => number) => Promise<string>} start */
  constructor(start) {
    this.until = 0;
    this.waiting = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.controller = new AbortController();
    this.promise = start(this.controller.signal, () => this.until).finally(() => clearTimeout(this.timer));
  }

  /** Whether a login may still join it: someone waits for it, and it was not ended. */
  get open() {
    return this.waiting > 0 && !this.controller.signal.aborted;
  }

  /**
   * Its answer, waited for until `signal` aborts (the login's deadline); the request is kept
   * until `deadline` at least, and ended when the last login waiting for it gives up.
   * @param {AbortSignal} signal
   * @param {number} deadline
   * @returns {Promise<string>}
   */
  async wait(signal, deadline) {
    this.extendTo(deadline);
    this.waiting += 1;
    try {
      return await untilAborted(this.promise, signal);
    } finally {
      this.waiting -= 1;
      if (this.waiting === 0 && signal.aborted) {
        this.controller.abort();
      }
    }
  }

  /** @param {number} deadline */
  extendTo(deadline) {
    if (deadline > this.until) {
      this.until = deadline;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.controller.abort(), Math.max(deadline - Date.now(), 0));
    }
  }
}

/**
 * A client-credentials token, cached (sealed) for later executions. `signal` ends it; `until()`
 * is the latest deadline of those waiting, which a retry must fit before.
 * @param {Secrets} secrets
 * @param {Cache} cache
 * @param {Vault} vault
 * @param {AbortSignal} signal
 * @param {() => number} until
 * @returns {Promise<string>}
 */
async function requestToken(secrets, cache, vault, signal, until) {
  const body = {
    grant_type: "client_credentials",
    client_id: secrets.CLIENT_ID,
    client_secret: secrets.CLIENT_SECRET,
    audience: `https://${secrets.TENANT_DOMAIN}/api/v2/`,
  };
  let retried = false;
  for (;;) {
    const answer = await send(secrets.TENANT_DOMAIN, "POST", "/oauth/token", body, signal);
    if (retryable(answer) && !retried && fitsBefore(until(), answer)) {
      retried = true;
      await sleep(retryDelayMs(answer), signal);
      continue;
    }
    const data = answer.status === 200 ? answer.json() : null;
    if (!isTokenAnswer(data)) {
      throw new UnexpectedAnswer(answer.status);
    }
    const ttl = Math.min(data.expires_in * 1000 - TOKEN_EXPIRY_MARGIN_MS, CACHE_MAX_TTL_MS);
    if (ttl > 0) {
      // A full or failing cache only costs a later login a token request.
      cache.set(vault.key, vault.seal(data.access_token), { ttl });
    }
    return data.access_token;
  }
}

/** The seal's AES-GCM authentication tag, whole. */
const TAG_BYTES = 16;

/**
 * The token's place in api.cache and its seal, both keyed by the client secret.
 * @typedef {{ key: string, seal: (token: string) => string, open: (sealed: string) => string | null }} Vault
 */

/**
 * @param {Secrets} secrets
 * @returns {Vault}
 */
function vaultOf(secrets) {
  const derive = (/** @type {string} */ purpose) =>
    Buffer.from(crypto.hkdfSync("sha256", secrets.CLIENT_SECRET, secrets.CLIENT_ID, purpose, 32));
  const name = derive("org-assignment api.cache key").toString("base64url");
  const sealing = derive("org-assignment api.cache seal");
  return {
    key: `org-assignment:${name}`.slice(0, CACHE_KEY_MAX),
    seal(token) {
      const nonce = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv("aes-256-gcm", sealing, nonce, { authTagLength: TAG_BYTES });
      const sealed = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
      return Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString("base64url");
    },
    open(value) {
      try {
        const bytes = Buffer.from(value, "base64url");
        // The whole tag or nothing: GCM checks as many of its bytes as it is given.
        const decipher = crypto.createDecipheriv("aes-256-gcm", sealing, bytes.subarray(0, 12), {
          authTagLength: TAG_BYTES,
        });
        decipher.setAuthTag(bytes.subarray(12, 12 + TAG_BYTES));
        const sealed = bytes.subarray(12 + TAG_BYTES);
        return Buffer.concat([decipher.update(sealed), decipher.final()]).toString("utf8");
      } catch {
        // Not sealed by this client's secret: someone else's, forged, or from before a rotation.
        return null;
      }
    },
  };
}

/**
 * @param {unknown} data
 * @returns {data is { access_token: string, expires_in: number }}
 */
function isTokenAnswer(data) {
  if (typeof data !== "object" || data === null) {
    return false;
  }
  const { access_token: token, expires_in: expiresIn } = /** @type {Record<string, unknown>} */ (data);
  return typeof token === "string" && typeof expiresIn === "number" && expiresIn > 0;
}

/**
 * One HTTPS request with a JSON body. A kept-alive connection the server closed meanwhile is
 * retried once on a new one, as Node's documentation advises.
 * @param {string} domain  host[:port]
 * @param {string} method
 * @param {string} path
 * @param {unknown} body
 * @param {AbortSignal} signal
 * @param {string} [token]
 * @returns {Promise<Answer>}
 */
async function send(domain, method, path, body, signal, token) {
  try {
    return await sendOnce(domain, method, path, body, signal, token);
  } catch (error) {
    if (error instanceof StaleConnection) {
      return sendOnce(domain, method, path, body, signal, token);
    }
    throw error;
  }
}

class StaleConnection extends Error {}

/**
 * @param {string} domain
 * @param {string} method
 * @param {string} path
 * @param {unknown} body
 * @param {AbortSignal} signal
 * @param {string} [token]
 * @returns {Promise<Answer>}
 */
function sendOnce(domain, method, path, body, signal, token) {
  const { hostname, port } = new URL(`https://${domain}`);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  /** @type {Record<string, string | number>} */
  const headers = { accept: "application/json" };
  if (payload) {
    headers["content-type"] = "application/json";
    headers["content-length"] = payload.length;
  }
  if (token) {
    headers.authorization = `Bearer ${token}`;
  }
  return new Promise((resolve, reject) => {
    const request = https.request({ hostname, port, method, path, headers, agent, signal }, (response) => {
      /** @type {Buffer[]} */
      const chunks = [];
      let size = 0;
      response.on("data", (/** @type {Buffer} */ chunk) => {
        size += chunk.length;
        if (size <= ANSWER_MAX_BYTES) {
          chunks.push(chunk);
        }
      });
      response.on("error", reject);
      response.on("end", () => {
        const text = size <= ANSWER_MAX_BYTES ? Buffer.concat(chunks).toString("utf8") : "";
        resolve({
          status: response.statusCode ?? 0,
          header: (name) => {
            const value = response.headers[name];
            return typeof value === "string" ? value : null;
          },
          json: () => parseJson(text),
        });
      });
    });
    request.on("error", (error) => {
      const code = /** @type {{ code?: string }} */ (error).code;
      reject(request.reusedSocket && code === "ECONNRESET" ? new StaleConnection() : error);
    });
    request.end(payload);
  });
}

/**
 * @param {string} text
 * @returns {unknown}
 */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * @param {Answer} answer
 * @returns {boolean}
 */
function retryable(answer) {
  return answer.status === 429 || answer.status >= 500;
}

/**
 * @param {number} deadline
 * @param {Answer} answer
 * @returns {boolean}
 */
function fitsBefore(deadline, answer) {
  return deadline - Date.now() - retryDelayMs(answer) > RETRY_FLOOR_MS;
}

/**
 * How long to wait before retrying: `Retry-After` (seconds, or an HTTP date) when it comes;
 * for a 429, else until `x-ratelimit-reset` (Unix seconds, Auth0's rate-limit headers, which
 * every answer carries but which say when to come back only when the limit was hit); else
 * 100 ms.
 * @param {Answer} answer
 * @returns {number}
 */
function retryDelayMs(answer) {
  const now = Date.now();
  const retryAfter = answer.header("retry-after");
  if (retryAfter !== null) {
    const at = /^\d+$/.test(retryAfter.trim()) ? now + Number(retryAfter) * 1000 : Date.parse(retryAfter);
    if (Number.isFinite(at)) {
      return Math.max(at - now, 0);
    }
  }
  const reset = answer.status === 429 ? answer.header("x-ratelimit-reset") : null;
  if (reset !== null && /^\d+$/.test(reset.trim())) {
    return Math.max(Number(reset) * 1000 - now, 0);
  }
  return DEFAULT_RETRY_MS;
}

/**
 * @param {number} ms
 * @param {AbortSignal} signal  ends the wait early, with DeadlinePassed
 * @returns {Promise<void>}
 */
function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(new DeadlinePassed());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    if (signal.aborted) {
      stop();
    } else {
      signal.addEventListener("abort", stop, { once: true });
    }
  });
}

/**
 * `promise`, or a DeadlinePassed rejection once `signal` aborts, whichever comes first.
 * @template T
 * @param {Promise<T>} promise
 * @param {AbortSignal} signal
 * @returns {Promise<T>}
 */
function untilAborted(promise, signal) {
  return new Promise((resolve, reject) => {
    const stop = () => reject(new DeadlinePassed());
    if (signal.aborted) {
      stop();
      return;
    }
    signal.addEventListener("abort", stop, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", stop));
  });
}

module.exports = { ENDPOINTS, DeadlinePassed, ManagementSession, UnexpectedAnswer, retryDelayMs, vaultOf };
