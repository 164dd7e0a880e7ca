/**
 * Post-login Action: assigns the user to each organization below whose rule the login matches.
 *
 * Rendered from action_templates/post_login.js.j2 by the "auth0-org-assignment" Pulumi stack.
 * Edits made in the dashboard are overwritten by the next `pulumi up`.
 *
 * No npm dependency: Node's own fetch makes the token request and the Management API calls, so
 * what runs in Auth0 is exactly this file, and a cold container loads nothing before it.
 */
"use strict";

const SETTINGS = Object.freeze({
  appMetadataKey: "org_assignment",
  timeBudgetMs: 3000,
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
const LOG_FIELD_MAX = { user_id: 48, connection: 32 };
const LOG_LINE_MAX = 255;

// Token requests in flight in this container, per client id: concurrent first logins share one.
const tokenRequests = new Map();

// Who may join each organization: a login must come through one of its connections (and one of
// its applications, if listed), and either any user of those connections may join ("anyUser")
// or the user's verified email is in one of its domains ("domains": exact; "subdomainsOf": any
// subdomain). email_verified counts only from Auth0's own database and passwordless email
// connections, and from the connections listed in "trusted".
const ORGANIZATIONS = [
  {"anyUser": false, "applications": null, "connections": ["Username-Password-Authentication", "google-oauth2"], "domains": ["acme.com"], "id": "(id of acme-staging)", "name": "acme-staging", "roles": [], "subdomainsOf": [], "trusted": []},
];
const TRUSTED_STRATEGIES = new Set(["auth0", "email"]);
const ROUTES = routingTable(ORGANIZATIONS);

exports.onExecutePostLogin = async (event, api) => {
  const startedAt = Date.now();
  const report = (outcome, extra) =>
    console.log(
      logLine({
        action: "org-assignment",
        outcome,
        user_id: event.user.user_id,
        connection: event.connection.name,
        ms: Date.now() - startedAt,
        ...extra,
      })
    );

  // A login to an organization: its members are members already, and it never joins the user
  // to any other organization.
  if (event.organization) {
    const ours = ORGANIZATIONS.some((organization) => organization.id === event.organization.id);
    return report(ours ? "skipped-already-member" : "skipped-other-organization", {
      via: "organization-login",
    });
  }
  const candidates = matchingOrganizations(event);
  if (candidates.length === 0) {
    return report("skipped-no-match", { via: "rules" });
  }
  // The fast path: every matching organization has this Action's marker, no request.
  const markers = assignmentMarkers(event.user);
  const pending = candidates.filter((organization) => markers[organization.id] !== true);
  if (pending.length === 0) {
    return report("skipped-already-member", { via: "app-metadata" });
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
  const assigned = [];
  let session;
  try {
    session = new ManagementSession(event.secrets, api.cache, abort.signal, deadline);
    const assignment = assignAll(session, event, pending, assigned);
    // Past the budget the abandoned attempt may still reject; that is already reported.
    assignment.catch(() => {});
    await Promise.race([assignment, budget]);
    report(assigned.length ? "assigned" : "skipped-connection", {
      organizations: assigned,
      via: assigned.length ? undefined : "management-api",
      token: session.tokenSource,
    });
  } catch (error) {
    report("failed", { reason: failureReason(error, deadline), organizations: assigned });
    if (SETTINGS.failurePolicy === "closed") {
      api.access.deny(SETTINGS.denyMessage);
    }
  } finally {
    clearTimeout(timer);
    if (assigned.length) {
      const marked = { ...markers };
      assigned.forEach((id) => (marked[id] = true));
      api.user.setAppMetadata(SETTINGS.appMetadataKey, marked);
    }
  }
};

/** Assigns the user to each organization in turn; ``assigned`` collects those that took. */
async function assignAll(session, event, organizations, assigned) {
  for (const organization of organizations) {
    if (await assign(session, event, organization)) {
      assigned.push(organization.id);
    }
  }
}

/** Adds the user to one organization; false when its connection is not enabled there. */
async function assign(session, event, target) {
  const organization = encodeURIComponent(target.id);
  const added = await session.request("POST", `/organizations/${organization}/members`, {
    members: [event.user.user_id],
  });
  // Auth0 answers 204 No Content; anything else, even a 2xx, is not an assignment.
  if (added.status !== 204) {
    throw new UnexpectedResponse(added.status);
  }
  return true;
}

/** The organizations whose rule this login matches. */
function matchingOrganizations(event) {
  const domain = emailDomain(event.user.email);
  const found = new Set(ROUTES.anyUser.get(event.connection.name) || []);
  if (domain) {
    (ROUTES.domains.get(domain) || []).forEach((organization) => found.add(organization));
    for (let dot = domain.indexOf("."); dot !== -1; dot = domain.indexOf(".", dot + 1)) {
      (ROUTES.subdomainsOf.get(domain.slice(dot + 1)) || []).forEach((o) => found.add(o));
    }
  }
  return [...found].filter((organization) => allows(organization, event));
}

/** Whether one organization's rule lets this login join it. */
function allows(organization, event) {
  if (!organization.connections.includes(event.connection.name)) {
    return false;
  }
  if (organization.applications && !organization.applications.includes((event.client || {}).client_id)) {
    return false;
  }
  if (organization.anyUser) {
    return true;
  }
  const vouched =
    TRUSTED_STRATEGIES.has(event.connection.strategy) || organization.trusted.includes(event.connection.name);
  // Only a verified email counts: anyone can type any address into a sign-up form.
  return event.user.email_verified === true && vouched;
}

/** Lookups by connection (for anyUser) and by email domain, built once per container. */
function routingTable(organizations) {
  const table = { anyUser: new Map(), domains: new Map(), subdomainsOf: new Map() };
  const add = (map, key, organization) => map.set(key, [...(map.get(key) || []), organization]);
  for (const organization of organizations) {
    if (organization.anyUser) {
      organization.connections.forEach((name) => add(table.anyUser, name, organization));
    }
    organization.domains.forEach((domain) => add(table.domains, domain, organization));
    organization.subdomainsOf.forEach((domain) => add(table.subdomainsOf, domain, organization));
  }
  return table;
}

/** The email's domain in lowercase ASCII (IDNA, as the configuration is), or null. */
function emailDomain(email) {
  if (typeof email !== "string" || email.lastIndexOf("@") < 1) {
    return null;
  }
  try {
    return new URL(`https://${email.slice(email.lastIndexOf("@") + 1)}`).hostname || null;
  } catch {
    return null;
  }
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

/** One JSON log line under Auth0's 256-character limit: long ids are shortened with an ellipsis,
 * and a list of organizations too long to fit becomes its count. */
function logLine(fields) {
  const shortened = { ...fields };
  for (const [name, max] of Object.entries(LOG_FIELD_MAX)) {
    const value = shortened[name];
    if (typeof value === "string" && value.length > max) {
      shortened[name] = `${value.slice(0, max - 1)}…`;
    }
  }
  let line = JSON.stringify(shortened);
  if (line.length > LOG_LINE_MAX && Array.isArray(shortened.organizations)) {
    line = JSON.stringify({ ...shortened, organizations: shortened.organizations.length });
  }
  return line.length <= LOG_LINE_MAX ? line : JSON.stringify({ action: fields.action, outcome: fields.outcome, truncated: true });
}
