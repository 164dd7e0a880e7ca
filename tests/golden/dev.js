/**
 * Post-login Action: assigns the user to organization event.secrets.ORGANIZATION_ID.
 *
 * Rendered from action_templates/post_login.js.j2 by the "auth0-org-assignment" Pulumi stack.
 * Edits made in the dashboard are overwritten by the next `pulumi up`.
 */
"use strict";

const SETTINGS = Object.freeze({
  allowedConnections: Object.freeze(["Username-Password-Authentication", "google-oauth2"]),
  appMetadataKey: "org_assignment",
  timeBudgetMs: 3000,
  failurePolicy: "open",
  denyMessage: "Sign-in could not be completed. Please try again later.",
});

// api.cache keys are at most 64 bytes and values at most 4 KB.
const TOKEN_CACHE_KEY = "org-assignment/management-token";
// Drop the cached token a minute before Auth0 would reject it, and never keep it past the
// cache's own 24 h ceiling.
const TOKEN_EXPIRY_MARGIN_MS = 60 * 1000;
const CACHE_MAX_TTL_MS = 24 * 60 * 60 * 1000;
// A retry is only worth trying when it can finish inside the budget.
const RETRY_FLOOR_MS = 250;

exports.onExecutePostLogin = async (event, api) => {
  const startedAt = Date.now();
  const organizationId = event.secrets.ORGANIZATION_ID;
  const report = (outcome, extra) =>
    console.log(
      JSON.stringify({
        action: "org-assignment",
        outcome,
        organization_id: organizationId,
        user_id: event.user.user_id,
        connection: event.connection.name,
        ms: Date.now() - startedAt,
        ...extra,
      })
    );

  // The fast path: no SDK load, no Management API call.
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
  await session.call((management, options) =>
    management.organizations.members.create(
      organizationId,
      { members: [event.user.user_id] },
      options
    )
  );
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
  }

  /** Runs one SDK call; on a 401 fetches one new token, on 429/5xx retries once if time allows. */
  async call(request) {
    let renewed = false;
    let retried = false;
    for (;;) {
      let tokenInHand = false;
      try {
        const token = await this.token(renewed);
        tokenInHand = true;
        const { ManagementClient } = require("auth0");
        const management = new ManagementClient({
          domain: this.secrets.TENANT_DOMAIN,
          token,
          telemetry: false,
        });
        return await request(management, this.requestOptions());
      } catch (error) {
        const status = statusOf(error);
        if (status === 401 && tokenInHand && !renewed) {
          renewed = true;
          continue;
        }
        const wait = retryDelayMs(error);
        const retryable = status === 429 || status >= 500;
        if (retryable && !retried && this.remainingMs() - wait > RETRY_FLOOR_MS) {
          retried = true;
          await sleep(wait, this.signal);
          continue;
        }
        throw error;
      }
    }
  }

  async token(renew) {
    if (!renew) {
      const cached = this.cache.get(TOKEN_CACHE_KEY);
      if (cached && typeof cached.value === "string") {
        return cached.value;
      }
    }
    const { AuthenticationClient } = require("auth0");
    const authentication = new AuthenticationClient({
      domain: this.secrets.TENANT_DOMAIN,
      clientId: this.secrets.CLIENT_ID,
      clientSecret: this.secrets.CLIENT_SECRET,
      timeoutDuration: Math.max(this.remainingMs(), 1),
      telemetry: false,
    });
    const { data } = await authentication.oauth.clientCredentialsGrant(
      { audience: `https://${this.secrets.TENANT_DOMAIN}/api/v2/` },
      { initOverrides: { signal: this.signal } }
    );
    this.tokenSource = "fetched";
    const ttl = Math.min(data.expires_in * 1000 - TOKEN_EXPIRY_MARGIN_MS, CACHE_MAX_TTL_MS);
    if (ttl > 0) {
      // A full cache or an oversized token only costs the next login a token request.
      this.cache.set(TOKEN_CACHE_KEY, data.access_token, { ttl });
    }
    return data.access_token;
  }

  requestOptions() {
    return {
      abortSignal: this.signal,
      timeoutInSeconds: Math.max(this.remainingMs(), 1) / 1000,
      maxRetries: 0,
    };
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

function statusOf(error) {
  return error && (error.statusCode || error.status);
}

/** Retry-After in ms; the Management client keeps headers on rawResponse, the auth client on the error. */
function retryDelayMs(error) {
  const headers = error && ((error.rawResponse && error.rawResponse.headers) || error.headers);
  const retryAfter = headers && typeof headers.get === "function" ? headers.get("retry-after") : null;
  const seconds = Number(retryAfter);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 100;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  });
}

/** A short, fixed reason for the logs: never an error body, a token or a secret. */
function failureReason(error, deadline) {
  // The SDK's timeouts are set to the time left, so the SDK and the budget timer race at the
  // deadline; either way the login ran out of budget.
  if (error instanceof BudgetExceeded || Date.now() >= deadline) {
    return "time-budget-exceeded";
  }
  const status = statusOf(error);
  if (status) {
    return `http-${status}`;
  }
  return error && error.name ? `error-${error.name}` : "error";
}
