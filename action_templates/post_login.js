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

const { markerKey, markerOf, markerRecord } = require("./marker");
const { createRule } = require("./membership");
const { DeadlinePassed, ManagementSession, UnexpectedAnswer } = require("./management_api");
const { unpack } = require("./configuration");
const { createRouter } = require("./routing");

/**
 * The configuration the handler reads, the same for every login: the block the stack renders
 * into the Action's code (auth0_org_assignment/action_code.py), unpacked (configuration.js; a
 * test has TypeScript check what the stack renders against these types).
 * @typedef {object} Configuration
 * @property {Settings} settings
 * @property {import("./membership").Organization[]} organizations
 * @property {import("./routing").Routing | null} routing  with several Actions, which logins are this one's; null for a lone one
 */

/**
 * @typedef {object} Settings
 * @property {string} markerPrefix  the app_metadata key of a marker, less the organization's id
 * @property {number} timeBudgetMs  the most this Action adds to a login
 * @property {"open" | "closed"} failurePolicy
 * @property {string} denyMessage  what the user sees when a fail-closed assignment fails
 * @property {"static" | "api"} connectionCheck  "api": ask the tenant whether the login's connection is enabled on the organization
 * @property {string} joinedClaim  the namespaced claim (ID and access token) listing the organizations a login made the user a member of
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
 * @property {{ setCustomClaim: (name: string, value: unknown) => unknown }} idToken
 * @property {{ setCustomClaim: (name: string, value: unknown) => unknown }} accessToken
 * @property {import("./management_api").Cache} cache
 */

// Auth0 keeps 256 characters of a log line; these caps keep every line below that.
const LOG_FIELD_MAX = { user_id: 48, connection: 32 };
const LOG_LINE_MAX = 255;

/**
 * The Action's handler for one stack's configuration block.
 * @param {import("./configuration").PackedConfiguration} block
 * @returns {(event: PostLoginEvent, api: PostLoginApi) => Promise<void>}
 */
function createHandler(block) {
  const configuration = unpack(block);
  const { settings, organizations } = configuration;
  const router = createRouter(configuration.routing);
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
      // Another of the stack's Actions owns this login's email domain (routing.js): it alone
      // applies the rule. Nothing to log: that Action logs the outcome.
      if (!router.owns(event.user ?? {}, event.connection?.name ?? "")) {
        return;
      }
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
        ({ organization }) => markerOf(event.user, settings.markerPrefix, organization.id)?.state !== "assigned",
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
 * Adds the user to each pending organization before the budget runs out, then marks each with
 * how and why they came in (marker.js): assigned where the membership and its roles took,
 * pending where the members request was sent but that was not confirmed (reconcile then still
 * knows the membership may be this stack's). The organizations the login made the user a
 * member of go into the tokens' joined claim, so the application knows at once to sign the
 * user in to them (`organization=<id>`, silent: the session exists).
 * @param {PostLoginEvent} event
 * @param {PostLoginApi} api
 * @param {Settings} settings
 * @param {import("./membership").Admission[]} pending
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
  const organizations = pending.map(({ organization }) => organization);
  try {
    const assignment = assignAll(session, event, settings, organizations, attempted, assigned);
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
    const now = new Date();
    for (const { organization, admittedBy } of pending) {
      if (attempted.includes(organization.id)) {
        const record = markerRecord("login", admittedBy, now, !assigned.includes(organization.id));
        api.user.setAppMetadata(markerKey(settings.markerPrefix, organization.id), record);
      }
    }
    if (assigned.length) {
      api.idToken.setCustomClaim(settings.joinedClaim, assigned);
      api.accessToken.setCustomClaim(settings.joinedClaim, assigned);
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
