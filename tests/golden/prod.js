/**
 * Post-login Action: assigns the user to organization event.secrets.ORGANIZATION_ID.
 *
 * Rendered from action_templates/post_login.js.j2 by the "auth0-org-assignment" Pulumi stack.
 * Edits made in the dashboard are overwritten by the next `pulumi up`.
 *
 * No npm dependency: Node's own fetch makes the token request and the Management API calls, so
 * what runs in Auth0 is exactly this file, and a cold container loads nothing before it.
 */
"use strict";

const SETTINGS = Object.freeze({
  allowedConnections: Object.freeze(["Username-Password-Authentication", "google-oauth2", "acme-okta"]),
  appMetadataKey: "org_assignment",
  timeBudgetMs: 2500,
  failurePolicy: "open",
  denyMessage: "Sign-in could not be completed. Please try again later.",
});

// Drop the cached token a minute before Auth0 would reject it, and never keep it past the
// cache's own 24 h ceiling.
const TOKEN_EXPIRY_MARGIN_MS = 60 * 1000;
const CACHE_MAX_TTL_MS = 24 * 60 * 60 * 1000;
// A retry is only worth trying when it can finish inside the budget.
const RETRY_FLOOR_MS = 250;
// Auth0 keeps 256 characters of a log line; these caps keep every line below that.
const LOG_FIELD_MAX = { user_id: 48, connection: 32, organization_id: 40 };
const LOG_LINE_MAX = 255;

// Token requests in flight in this container, per client id: concurrent first logins share one.
const tokenRequests = new Map();

exports.onExecutePostLogin = async (event, api) => {
  const startedAt = Date.now();
  const organizationId = event.secrets.ORGANIZATION_ID;
  const report = (outcome, extra) =>
    console.log(
      logLine({
        action: "org-assignment",
        outcome,
        organization_id: organizationId,
        user_id: event.user.user_id,
        connection: event.connection.name,
        ms: Date.now() - startedAt,
        ...extra,
      })
    );

  // The fast path: no Management API call.
  if (event.organization && event.organization.id === organizationId) {
    return report("skipped-already-member", { via: "organization-login" });
  }
  const markers = assignmentMarkers(event.user);
  if (markers[organizationId] === true) {
    return report("skipped-already-member", { via: "app-metadata" });
  }
  if (!SETTINGS.allowedConnections.includes(event.connection.name)) {
    return report("skipped-connection", { via: "static-list" });
  }

  const deadline = startedAt + SETTINGS.timeBudgetMs;
  const abort = new AbortController();
  let timer;
  const budget = new Promise((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new BudgetExceeded());
    }, SETTINGS.timeBudgetMs);
  });
  try {
    const session = new ManagementSession(event.secrets, api.cache, abort.signal, deadline);
    const assignment = assign(session, event, organizationId);
    // Past the budget the abandoned attempt may still reject; that is already reported.
    assignment.catch(() => {});
    const assigned = await Promise.race([assignment, budget]);
    if (!assigned) {
      return report("skipped-connection", { via: "management-api" });
    }
    api.user.setAppMetadata(SETTINGS.appMetadataKey, { ...markers, [organizationId]: true });
    report("assigned", { token: session.tokenSource });
  } catch (error) {
    report("failed", { reason: failureReason(error, deadline) });
    if (SETTINGS.failurePolicy === "closed") {
      api.access.deny(SETTINGS.denyMessage);
    }
  } finally {
    clearTimeout(timer);
  }
};

/** Adds the user to the organization; false when its connection is not enabled there. */
async function assign(session, event, organizationId) {
  const organization = encodeURIComponent(organizationId);
  const added = await session.request("POST", `/organizations/${organization}/members`, {
    members: [event.user.user_id],
  });
  // Auth0 answers 204 No Content; anything else, even a 2xx, is not an assignment.
  if (added.status !== 204) {
    throw new UnexpectedResponse(added.status);
  }
  return true;
}

/** The Management API, with a token shared across executions through api.cache. */
class ManagementSession {
  constructor(secrets, cache, signal, deadline) {
    this.secrets = secrets;
    this.cache = cache;
    this.signal = signal;
    this.deadline = deadline;
    this.tokenSource = "cache";
    // api.cache keys are at most 64 bytes; one key per M2M client, so two stacks in one
    // tenant never share a token.
    this.cacheKey = `org-assignment:${secrets.CLIENT_ID}`.slice(0, 64);
  }

  /**
   * One Management API request. A 401 or 403 fetches one new token (a revoked token, or one
   * issued before the grant changed); a 429 or 5xx is retried once if time allows.
   */
  async request(method, path, body) {
    let renewed = false;
    let retried = false;
    for (;;) {
      const token = await this.token(renewed);
      const response = await this.send(`/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
        body,
      });
      if ((response.status === 401 || response.status === 403) && !renewed) {
        renewed = true;
        continue;
      }
      if (this.shouldRetry(response, retried)) {
        retried = true;
        await sleep(retryDelayMs(response), this.signal);
        continue;
      }
      if (response.status === 401 || response.status === 403 || response.status === 429 || response.status >= 500) {
        throw new UnexpectedResponse(response.status);
      }
      return response;
    }
  }

  async token(renew) {
    if (!renew) {
      const cached = this.cache.get(this.cacheKey);
      if (cached && typeof cached.value === "string") {
        return cached.value;
      }
    }
    const clientId = this.secrets.CLIENT_ID;
    let pending = tokenRequests.get(clientId);
    if (!pending || renew) {
      pending = this.fetchToken().finally(() => {
        if (tokenRequests.get(clientId) === pending) {
          tokenRequests.delete(clientId);
        }
      });
      tokenRequests.set(clientId, pending);
    }
    const token = await pending;
    this.tokenSource = "fetched";
    return token;
  }

  async fetchToken() {
    let retried = false;
    for (;;) {
      const response = await this.send("/oauth/token", {
        method: "POST",
        body: {
          grant_type: "client_credentials",
          client_id: this.secrets.CLIENT_ID,
          client_secret: this.secrets.CLIENT_SECRET,
          audience: `https://${this.secrets.TENANT_DOMAIN}/api/v2/`,
        },
      });
      if (this.shouldRetry(response, retried)) {
        retried = true;
        await sleep(retryDelayMs(response), this.signal);
        continue;
      }
      const data = response.status === 200 ? await response.json().catch(() => null) : null;
      if (!data || typeof data.access_token !== "string" || !(data.expires_in > 0)) {
        throw new UnexpectedResponse(response.status);
      }
      const ttl = Math.min(data.expires_in * 1000 - TOKEN_EXPIRY_MARGIN_MS, CACHE_MAX_TTL_MS);
      if (ttl > 0) {
        // A full cache only costs the next login a token request.
        this.cache.set(this.cacheKey, data.access_token, { ttl });
      }
      return data.access_token;
    }
  }

  send(path, { method, headers = {}, body }) {
    return fetch(`https://${this.secrets.TENANT_DOMAIN}${path}`, {
      method,
      headers: { ...headers, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: this.signal,
    });
  }

  shouldRetry(response, retried) {
    const retryable = response.status === 429 || response.status >= 500;
    return retryable && !retried && this.remainingMs() - retryDelayMs(response) > RETRY_FLOOR_MS;
  }

  remainingMs() {
    return this.deadline - Date.now();
  }
}

/** The markers this Action left in app_metadata: { [organizationId]: true }. */
function assignmentMarkers(user) {
  const value = (user.app_metadata || {})[SETTINGS.appMetadataKey];
  return value && typeof value === "object" && !Array.isArray(value) ? value : {};
}

class BudgetExceeded extends Error {}

class UnexpectedResponse extends Error {
  constructor(status) {
    super(`unexpected response ${status}`);
    this.status = status;
  }
}

/** Retry-After in ms, given in seconds or as an HTTP date; 100 ms when absent. */
function retryDelayMs(response) {
  const value = response.headers.get("retry-after");
  if (value === null) {
    return 100;
  }
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(ms, 0) : 100;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  });
}

/** A short, fixed reason for the logs: never an error body, a token or a secret. */
function failureReason(error, deadline) {
  if (error instanceof BudgetExceeded || Date.now() >= deadline) {
    return "time-budget-exceeded";
  }
  if (error instanceof UnexpectedResponse) {
    return error.status >= 200 && error.status < 300 ? `malformed-${error.status}` : `http-${error.status}`;
  }
  return error && error.name ? `error-${error.name}`.slice(0, 40) : "error";
}

/** One JSON log line under Auth0's 256-character limit, long ids shortened with an ellipsis. */
function logLine(fields) {
  const shortened = { ...fields };
  for (const [name, max] of Object.entries(LOG_FIELD_MAX)) {
    const value = shortened[name];
    if (typeof value === "string" && value.length > max) {
      shortened[name] = `${value.slice(0, max - 1)}…`;
    }
  }
  const line = JSON.stringify(shortened);
  return line.length <= LOG_LINE_MAX ? line : JSON.stringify({ action: fields.action, outcome: fields.outcome, truncated: true });
}
