/**
 * Post-login Action: assigns the user to each organization whose rule the login matches.
 *
 * Rendered by the "auth0-org-assignment" Pulumi stack from action_templates/: the stack's
 * configuration, then these modules as they are, each in its own scope:
 *   membership.js, management_api.js, post_login.js
 * Edits made in the dashboard are overwritten by the next `pulumi up`. No npm dependency: what
 * runs in Auth0 is exactly this file.
 */
"use strict";

const CONFIGURATION = {
  settings: {
    "connectionCheck": "static",
    "denyMessage": "Sign-in could not be completed. Please try again later.",
    "failurePolicy": "open",
    "markerPrefix": "org_assignment:",
    "timeBudgetMs": 3000,
  },
  organizations: [
    {"anyUser": false, "applications": null, "connections": ["Username-Password-Authentication"], "domains": ["example.com"], "id": "(id of acme-local)", "name": "acme-local", "roles": [], "subdomainsOf": [], "trusted": []},
  ],
};

const MODULES = {
  "./membership": (module, exports, require) => {
// @ts-check
/**
 * Who may join which organization: the one implementation of the rule.
 *
 * The post-login Action applies it at each login (post_login.js); the backfill and reconcile
 * (infra/backfill.py, infra/reconcile.py) run this same file in Node on exported users, through
 * evaluate.js. Pure: no I/O, no clock, nothing read but its arguments.
 *
 * A user is eligible for an organization through one of their identities when:
 * - the identity's connection is one of the organization's connections;
 * - the user is not blocked;
 * - and either the organization admits any user of its connections (`anyUser`), or the
 *   identity's own email is verified, vouched for by its connection (Auth0's database and
 *   passwordless email connections, or one listed in `trusted`), and its domain is one of the
 *   organization's domains (exactly) or a subdomain of one in `subdomainsOf`.
 * The Action further requires the login's application to be listed, when `applications` is.
 */
"use strict";

const { domainToASCII } = require("node:url");

/**
 * An organization's rule, as the stack renders it (infra/action_code.py).
 * @typedef {object} Organization
 * @property {string} id
 * @property {string} name
 * @property {string[]} connections  names of the connections a member comes through
 * @property {boolean} anyUser  every user of those connections may join
 * @property {string[]} domains  email domains, lowercase ASCII, matched exactly
 * @property {string[]} subdomainsOf  any subdomain of these matches (not the domain itself)
 * @property {string[]} trusted  connections whose email_verified counts besides Auth0's own
 * @property {string[] | null} applications  client ids whose logins may assign; null: any
 * @property {string[]} roles  organization role ids given on joining
 */

/**
 * The parts of an Auth0 user the rule reads. Anything may be missing or of another type: a
 * user comes from a login's event or from a users export, and neither is trusted to be tidy.
 * @typedef {object} User
 * @property {unknown} [user_id]
 * @property {unknown} [email]
 * @property {unknown} [email_verified]
 * @property {unknown} [blocked]
 * @property {unknown} [identities]
 * @property {unknown} [app_metadata]
 */

/**
 * A connection a user comes through: its name and strategy (`auth0`, `google-oauth2`, `samlp`...).
 * @typedef {{ name: string, strategy: string }} Connection
 */

/** Strategies whose email_verified Auth0 sets itself: its database and passwordless email. */
const SELF_VERIFYING_STRATEGIES = new Set(["auth0", "email"]);

// A host name as DNS allows it, once in ASCII: labels of letters, digits and inner hyphens, at
// most 63 characters each and 253 in all, at least two, the last not all digits (an address).
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const HOST_MAX = 253;
// Never in an address's domain: what a URL parser would read as a path, port, query, fragment,
// percent-escape or IPv6 literal, and so silently drop (`acme.com/evil.io` is not acme.com).
const NOT_IN_DOMAIN = /[/\\:?#%[\]]/;
const WHITESPACE_OR_CONTROL = /[\s\p{Cc}]/u;
// UTS 46's deviation characters, and the capital sharp s: software that maps host names the
// older way (IDNA 2003, transitional) reads them as another domain (ß as "ss"), so mail to such
// an address may reach another domain's owner. An address holding one matches no domain.
const DEVIATIONS = /[\u00DF\u1E9E\u03C2\u200C\u200D]/u;
// The longest address SMTP carries (RFC 5321): mapping a longer one only costs time.
const ADDRESS_MAX = 254;

/**
 * The domain of an email address in lowercase ASCII, or null when the address is not one.
 *
 * Strict: at most 254 characters, exactly one `@` with something before it, no whitespace or
 * control character, none of `/ \ : ? # % [ ]` after it, no IDNA deviation character, and a
 * host name DNS allows. The domain is mapped as browsers and Node map host names (UTS 46,
 * non-transitional), so `Bücher.de` and `xn--bcher-kva.de` are one domain.
 * @param {unknown} address
 * @returns {string | null}
 */
function emailDomain(address) {
  if (typeof address !== "string" || address.length > ADDRESS_MAX || WHITESPACE_OR_CONTROL.test(address)) {
    return null;
  }
  const at = address.indexOf("@");
  if (at < 1 || at !== address.lastIndexOf("@")) {
    return null;
  }
  const domain = address.slice(at + 1);
  if (NOT_IN_DOMAIN.test(domain) || DEVIATIONS.test(domain.normalize("NFKC"))) {
    return null;
  }
  const ascii = domainToASCII(domain);
  return isHostName(ascii) ? ascii : null;
}

/**
 * @param {string} host
 * @returns {boolean}
 */
function isHostName(host) {
  const labels = host.split(".");
  return (
    host.length <= HOST_MAX &&
    labels.length >= 2 &&
    labels.every((label) => LABEL.test(label)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1])
  );
}

/**
 * The email claim of the identity a user comes through on `connectionName`: the user's own
 * `email` and `email_verified` for the primary identity (the first), the identity's
 * `profileData` for a linked one. Null when the user has no identity there, or more than one
 * (which of them logged in cannot be told).
 * @param {User} user
 * @param {string} connectionName
 * @returns {{ email: unknown, verified: boolean } | null}
 */
function identityClaim(user, connectionName) {
  const identities = Array.isArray(user.identities) ? user.identities : [];
  const through = identities.filter((identity) => isRecord(identity) && identity.connection === connectionName);
  if (through.length !== 1) {
    return null;
  }
  const source = through[0] === identities[0] ? user : through[0].profileData;
  if (!isRecord(source)) {
    return null;
  }
  return { email: source.email, verified: source.email_verified === true };
}

/**
 * Why `organization`'s rule does not let `user`, coming through `connection`, be a member; null
 * when it does. The reasons are the ones reconcile reports to those who leave.
 * @param {Organization} organization
 * @param {User} user
 * @param {Connection} connection
 * @returns {Refusal | null}
 */
function refusal(organization, user, connection) {
  if (user.blocked === true) {
    return "blocked";
  }
  if (!organization.connections.includes(connection.name)) {
    return "connection-not-in-rule";
  }
  if (organization.anyUser) {
    return null;
  }
  const vouched =
    SELF_VERIFYING_STRATEGIES.has(connection.strategy) || organization.trusted.includes(connection.name);
  if (!vouched) {
    return "email-not-vouched-for";
  }
  const claim = identityClaim(user, connection.name);
  // Only a verified email counts: anyone can type any address into a sign-up form.
  if (!claim || !claim.verified) {
    return "email-not-verified";
  }
  const domain = emailDomain(claim.email);
  return domain !== null && inDomains(organization, domain) ? null : "email-domain-not-in-rule";
}

/**
 * @typedef {"blocked" | "connection-not-in-rule" | "email-not-vouched-for" | "email-not-verified" | "email-domain-not-in-rule"} Refusal
 */

/**
 * Whether `organization`'s rule lets `user`, coming through `connection`, be a member.
 * @param {Organization} organization
 * @param {User} user
 * @param {Connection} connection
 * @returns {boolean}
 */
function eligible(organization, user, connection) {
  return refusal(organization, user, connection) === null;
}

/**
 * @param {Organization} organization
 * @param {string} domain
 * @returns {boolean}
 */
function inDomains(organization, domain) {
  return (
    organization.domains.includes(domain) ||
    organization.subdomainsOf.some((parent) => domain.endsWith(`.${parent}`))
  );
}

/**
 * Whether a login to the application `clientId` may assign to `organization`.
 * @param {Organization} organization
 * @param {unknown} clientId
 * @returns {boolean}
 */
function applicationAllows(organization, clientId) {
  return organization.applications === null || organization.applications.some((id) => id === clientId);
}

/**
 * The rule for a list of organizations, with an index built once (per container, for the
 * Action) so a login looks at the few organizations its connection or domain can match.
 * @param {Organization[]} organizations
 */
function createRule(organizations) {
  const index = buildIndex(organizations);

  /**
   * Organizations whose rule the user matches through `connection` (the index narrows, the
   * rule decides).
   * @param {User} user
   * @param {Connection} connection
   * @returns {Organization[]}
   */
  function eligibleThrough(user, connection) {
    const found = new Set(index.anyUser.get(connection.name));
    const claim = identityClaim(user, connection.name);
    const domain = claim ? emailDomain(claim.email) : null;
    if (domain !== null) {
      index.domains.get(domain)?.forEach((organization) => found.add(organization));
      for (let dot = domain.indexOf("."); dot !== -1; dot = domain.indexOf(".", dot + 1)) {
        index.subdomainsOf.get(domain.slice(dot + 1))?.forEach((organization) => found.add(organization));
      }
    }
    return [...found].filter((organization) => eligible(organization, user, connection));
  }

  return {
    /**
     * The organizations a login assigns to: eligible through the login's connection, and the
     * login's application listed where the organization lists applications.
     * @param {User} user
     * @param {Connection} connection
     * @param {unknown} clientId
     * @returns {Organization[]}
     */
    forLogin(user, connection, clientId) {
      return eligibleThrough(user, connection).filter((organization) => applicationAllows(organization, clientId));
    },

    /**
     * The organizations a user is eligible for through any of their identities, whatever the
     * application (the backfill and reconcile: no login tells which). Each identity comes
     * through its connection with the strategy Auth0 records as its `provider`.
     * @param {User} user
     * @returns {Organization[]}
     */
    forUser(user) {
      const found = new Set();
      identityConnections(user).forEach((connection) =>
        eligibleThrough(user, connection).forEach((organization) => found.add(organization)),
      );
      return organizations.filter((organization) => found.has(organization));
    },
  };
}

/**
 * Why `user` is not eligible for `organization` through any identity, or null when they are:
 * the refusal of an identity on one of its connections, if they have one.
 * @param {Organization} organization
 * @param {User} user
 * @returns {Refusal | null}
 */
function userRefusal(organization, user) {
  const refusals = identityConnections(user).map((connection) => refusal(organization, user, connection));
  if (refusals.includes(null)) {
    return null;
  }
  return refusals.find((reason) => reason !== "connection-not-in-rule") ?? refusals[0] ?? "connection-not-in-rule";
}

/**
 * The connections a user's identities come through, each with its recorded strategy.
 * @param {User} user
 * @returns {Connection[]}
 */
function identityConnections(user) {
  const identities = Array.isArray(user.identities) ? user.identities : [];
  return identities.flatMap((identity) =>
    isRecord(identity) && typeof identity.connection === "string" && typeof identity.provider === "string"
      ? [{ name: identity.connection, strategy: identity.provider }]
      : [],
  );
}

/**
 * Lookups by connection (for `anyUser`) and by email domain.
 * @param {Organization[]} organizations
 */
function buildIndex(organizations) {
  /** @type {{ anyUser: Map<string, Organization[]>, domains: Map<string, Organization[]>, subdomainsOf: Map<string, Organization[]> }} */
  const index = { anyUser: new Map(), domains: new Map(), subdomainsOf: new Map() };
  /**
   * @param {Map<string, Organization[]>} map
   * @param {string} key
   * @param {Organization} organization
   */
  const add = (map, key, organization) => map.set(key, [...(map.get(key) ?? []), organization]);
  for (const organization of organizations) {
    if (organization.anyUser) {
      organization.connections.forEach((name) => add(index.anyUser, name, organization));
    }
    organization.domains.forEach((domain) => add(index.domains, domain, organization));
    organization.subdomainsOf.forEach((domain) => add(index.subdomainsOf, domain, organization));
  }
  return index;
}

/**
 * The marker this stack left on a user for an organization, under `${prefix}${organizationId}`
 * in app_metadata (one top-level key each, so each is set or removed on its own, as Auth0 merges
 * app_metadata one level deep): true once the user was added with the organization's roles,
 * "pending" once the members request was sent but that was not confirmed (the answer did not
 * come in time, or the roles failed). Anything else stored there reads as no marker.
 * @param {User} user
 * @param {string} prefix
 * @param {string} organizationId
 * @returns {true | "pending" | undefined}
 */
function markerOf(user, prefix, organizationId) {
  const metadata = isRecord(user.app_metadata) ? user.app_metadata : {};
  const key = `${prefix}${organizationId}`;
  const value = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
  return value === true || value === PENDING ? value : undefined;
}

/** The marker of a members request whose outcome is not known. */
const PENDING = "pending";

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

module.exports = { PENDING, createRule, eligible, emailDomain, identityClaim, markerOf, refusal, userRefusal };
  },
  "./management_api": (module, exports, require) => {
// @ts-check
/**
 * The Management API as the Action uses it: the only calls it can make (ENDPOINTS, from which
 * infra/action_code.py derives the grant's scopes), a client-credentials token shared across
 * executions through api.cache, and requests that end by each login's deadline.
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

/**
 * Every Management API call the Action may make. Requests name one of these; there is no other
 * way to send one, so this list is what the grant must allow.
 */
const ENDPOINTS = Object.freeze({
  addMembers: { method: "POST", path: "/organizations/{organization}/members" },
  enabledConnection: { method: "GET", path: "/organizations/{organization}/enabled_connections/{connection}" },
  addMemberRoles: { method: "POST", path: "/organizations/{organization}/members/{member}/roles" },
});

/** @typedef {keyof typeof ENDPOINTS} Endpoint */

/**
 * The Action secrets the stack sets (infra/org_assignment.py).
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
   * until the last deadline of those waiting.
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
    if (!shared || renew) {
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
    shared.extendTo(this.deadline);
    const token = await untilAborted(shared.promise, this.signal);
    this.tokenSource = "fetched";
    return token;
  }
}

/**
 * A request several logins wait for: aborted once the last of their deadlines has passed, so
 * it neither ends with the first login that gives up nor outlives everyone who wants it.
 */
class SharedRequest {
  /** @param {(signal: AbortSignal, until: () => number) => Promise<string>} start */
  constructor(start) {
    this.until = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.controller = new AbortController();
    this.promise = start(this.controller.signal, () => this.until).finally(() => clearTimeout(this.timer));
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
      const cipher = crypto.createCipheriv("aes-256-gcm", sealing, nonce);
      const sealed = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
      return Buffer.concat([nonce, cipher.getAuthTag(), sealed]).toString("base64url");
    },
    open(value) {
      try {
        const bytes = Buffer.from(value, "base64url");
        const decipher = crypto.createDecipheriv("aes-256-gcm", sealing, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(12, 28));
        return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
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
  },
  "./post_login": (module, exports, require) => {
// @ts-check
/**
 * The post-login handler: assigns the user to each organization whose rule the login matches
 * (membership.js) through the Management API (management_api.js), within a time budget, and
 * marks the user so that later logins make no request at all.
 *
 * It never throws: Auth0 fails the login on an uncaught error. A failure is logged, and with
 * failurePolicy "closed" the login is denied with denyMessage.
 */
"use strict";

const { PENDING, createRule, markerOf } = require("./membership");
const { DeadlinePassed, ManagementSession, UnexpectedAnswer } = require("./management_api");

/**
 * What the stack renders into the Action (infra/action_code.py), the same for every login.
 * @typedef {object} Configuration
 * @property {Settings} settings
 * @property {import("./membership").Organization[]} organizations
 */

/**
 * @typedef {object} Settings
 * @property {string} markerPrefix  the app_metadata key of a marker, less the organization's id
 * @property {number} timeBudgetMs  the most this Action adds to a login
 * @property {"open" | "closed"} failurePolicy
 * @property {string} denyMessage  what the user sees when a fail-closed assignment fails
 * @property {"static" | "api"} connectionCheck  "api": ask the tenant whether the login's connection is enabled on the organization
 */

/**
 * The parts of Auth0's post-login event the Action reads.
 * @typedef {object} PostLoginEvent
 * @property {import("./membership").User & { user_id: string }} user
 * @property {{ id: string, name: string, strategy: string }} connection
 * @property {{ client_id?: string }} [client]
 * @property {{ id: string }} [organization]
 * @property {import("./management_api").Secrets} secrets
 */

/**
 * The parts of Auth0's post-login api object the Action uses.
 * @typedef {object} PostLoginApi
 * @property {{ deny: (reason: string) => unknown }} access
 * @property {{ setAppMetadata: (key: string, value: unknown) => unknown }} user
 * @property {import("./management_api").Cache} cache
 */

// Auth0 keeps 256 characters of a log line; these caps keep every line below that.
const LOG_FIELD_MAX = { user_id: 48, connection: 32 };
const LOG_LINE_MAX = 255;

/**
 * The Action's handler for one stack's configuration.
 * @param {Configuration} configuration
 * @returns {(event: PostLoginEvent, api: PostLoginApi) => Promise<void>}
 */
function createHandler(configuration) {
  const { settings, organizations } = configuration;
  const rule = createRule(organizations);
  const ours = new Set(organizations.map((organization) => organization.id));

  return async function onExecutePostLogin(event, api) {
    const startedAt = Date.now();
    /**
     * @param {string} outcome
     * @param {Record<string, unknown>} [extra]
     */
    const report = (outcome, extra) =>
      console.log(
        logLine({
          action: "org-assignment",
          outcome,
          // Optional: a failure is reported even for an event that could not be read.
          user_id: event.user?.user_id,
          connection: event.connection?.name,
          ms: Date.now() - startedAt,
          ...extra,
        }),
      );
    try {
      // A login to an organization: its members are members already, and it never joins the
      // user to any other organization.
      if (event.organization) {
        const outcome = ours.has(event.organization.id) ? "skipped-already-member" : "skipped-other-organization";
        return report(outcome, { via: "organization-login" });
      }
      const matching = rule.forLogin(event.user, event.connection, event.client?.client_id);
      if (matching.length === 0) {
        return report("skipped-no-match", { via: "rules" });
      }
      // The fast path: every matching organization has this Action's marker, no request.
      const pending = matching.filter(
        (organization) => markerOf(event.user, settings.markerPrefix, organization.id) !== true,
      );
      if (pending.length === 0) {
        return report("skipped-already-member", { via: "app-metadata" });
      }
      await assignWithinBudget(event, api, settings, pending, startedAt, report);
    } catch (error) {
      report("failed", { reason: failureReason(error, Infinity) });
      if (settings.failurePolicy === "closed") {
        api.access.deny(settings.denyMessage);
      }
    }
  };
}

/**
 * Adds the user to each pending organization before the budget runs out, then marks each: true
 * where the membership and its roles took, "pending" where the members request was sent but that
 * was not confirmed (reconcile then still knows the membership may be this stack's).
 * @param {PostLoginEvent} event
 * @param {PostLoginApi} api
 * @param {Settings} settings
 * @param {import("./membership").Organization[]} pending
 * @param {number} startedAt
 * @param {(outcome: string, extra?: Record<string, unknown>) => void} report
 */
async function assignWithinBudget(event, api, settings, pending, startedAt, report) {
  const deadline = startedAt + settings.timeBudgetMs;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), Math.max(deadline - Date.now(), 0));
  const budget = new Promise((_, reject) => {
    abort.signal.addEventListener("abort", () => reject(new DeadlinePassed()), { once: true });
  });
  budget.catch(() => {});
  /** @type {string[]} */
  const assigned = [];
  /** @type {string[]} */
  const attempted = [];
  const session = new ManagementSession(event.secrets, api.cache, abort.signal, deadline);
  try {
    const assignment = assignAll(session, event, settings, pending, attempted, assigned);
    // Past the budget the abandoned attempt may still reject; that is reported already.
    assignment.catch(() => {});
    await Promise.race([assignment, budget]);
    report(assigned.length ? "assigned" : "skipped-connection", {
      organizations: assigned,
      via: assigned.length ? undefined : "management-api",
      token: session.tokenSource,
    });
  } catch (error) {
    report("failed", { reason: failureReason(error, deadline), organizations: assigned });
    if (settings.failurePolicy === "closed") {
      api.access.deny(settings.denyMessage);
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
    for (const id of attempted) {
      api.user.setAppMetadata(`${settings.markerPrefix}${id}`, assigned.includes(id) ? true : PENDING);
    }
  }
}

/**
 * Assigns the user to each organization in turn: `attempted` collects those whose members
 * request was sent, `assigned` those where it and the roles took.
 * @param {InstanceType<typeof ManagementSession>} session
 * @param {PostLoginEvent} event
 * @param {Settings} settings
 * @param {import("./membership").Organization[]} organizations
 * @param {string[]} attempted
 * @param {string[]} assigned
 */
async function assignAll(session, event, settings, organizations, attempted, assigned) {
  for (const organization of organizations) {
    if (await assign(session, event, settings, organization, () => attempted.push(organization.id))) {
      assigned.push(organization.id);
    }
  }
}

/**
 * Adds the user to one organization, with its roles; false when, in "api" mode, the login's
 * connection is not enabled there. `sending` is called as the members request leaves.
 * @param {InstanceType<typeof ManagementSession>} session
 * @param {PostLoginEvent} event
 * @param {Settings} settings
 * @param {import("./membership").Organization} organization
 * @param {() => void} sending
 * @returns {Promise<boolean>}
 */
async function assign(session, event, settings, organization, sending) {
  const params = { organization: organization.id, connection: event.connection.id, member: event.user.user_id };
  if (settings.connectionCheck === "api") {
    const enabled = await session.call("enabledConnection", params);
    if (enabled.status === 404) {
      return false;
    }
    const body = enabled.json();
    const connectionId = typeof body === "object" && body !== null ? Reflect.get(body, "connection_id") : undefined;
    if (enabled.status !== 200 || connectionId !== event.connection.id) {
      throw new UnexpectedAnswer(enabled.status);
    }
  }
  // Auth0 answers 204 No Content; anything else, even a 2xx, is not an assignment.
  const added = await session.call("addMembers", params, { members: [event.user.user_id] }, sending);
  if (added.status !== 204) {
    throw new UnexpectedAnswer(added.status);
  }
  if (organization.roles.length) {
    const given = await session.call("addMemberRoles", params, { roles: organization.roles });
    if (given.status !== 204) {
      throw new UnexpectedAnswer(given.status);
    }
  }
  return true;
}

/**
 * A short, fixed reason for the logs: never an error body, a token or a secret.
 * @param {unknown} error
 * @param {number} deadline
 * @returns {string}
 */
function failureReason(error, deadline) {
  if (error instanceof DeadlinePassed || Date.now() >= deadline) {
    return "time-budget-exceeded";
  }
  if (error instanceof UnexpectedAnswer) {
    return error.status >= 200 && error.status < 300 ? `malformed-${error.status}` : `http-${error.status}`;
  }
  const name = error instanceof Error ? error.name : "";
  return name ? `error-${name}`.slice(0, 40) : "error";
}

/**
 * One JSON log line under Auth0's 256-character limit: long ids are shortened with an
 * ellipsis, and a list of organizations too long to fit becomes its count.
 * @param {Record<string, unknown>} fields
 * @returns {string}
 */
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
  return line.length <= LOG_LINE_MAX
    ? line
    : JSON.stringify({ action: fields.action, outcome: fields.outcome, truncated: true });
}

module.exports = { createHandler };
  },
};

const loaded = new Map();

/** The module `name` of the modules above, or one of Node's own (`node:...`). */
function load(name) {
  if (name.startsWith("node:")) {
    return require(name);
  }
  if (!loaded.has(name)) {
    const module = { exports: {} };
    loaded.set(name, module);
    MODULES[name](module, module.exports, load);
  }
  return loaded.get(name).exports;
}

exports.onExecutePostLogin = load("./post_login").createHandler(CONFIGURATION);
