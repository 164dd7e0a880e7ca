// @ts-check
/**
 * The membership rule (membership.js) for users who are not logging in: the backfill and
 * reconcile (auth0_org_assignment/commands/eligibility.py) start it once per run and stream
 * users through it, so they decide with the Action's own code. Not part of the Action.
 *
 *   node action_templates/eligibility.js
 *   stdin, one JSON document a line: first
 *     {"organizations": [<as rendered into the Action>], "markerPrefix": "...", "at": <ISO time>}
 *   then one request a line, each wrapped in its kind, so that nothing a user's profile holds
 *   (an identity provider's attributes are kept at its root) can turn it into another request:
 *   {"decide": <user, as the users export gives them>}. stdout, one line for each user:
 *     {"eligible": {<organization id>: <the clause that admits, through any identity>},
 *      "marked": [<ids whose marker is an assignment>], "pending": [<ids whose marker is pending>],
 *      "refusals": {<organization id>: <why not eligible>, for each marked or pending one},
 *      "markers": {<organization id>: <the marker the backfill leaves>, for each eligible one}}
 *   With "refuseAll": true in the first line, "refusals" holds every organization the user is
 *   not eligible for (the impact of a change), not only the marked ones.
 *   A line {"shape": <user>} gets what an impact snapshot keeps of the user, and nothing that
 *     names them: {"identities": [{"connection", "strategy", "domain" (as the rule reads the
 *     identity's email, or null), "verified"}], "blocked", "marked": [ids], "pending": [ids]}.
 *   A line {"explain": <user>, "login": {"connection", "client", "organization"} | null} gets
 *     {"explanations": {<organization id>: {"admittedBy": <clause>} | {"refusal": <why not>}},
 *      "marked": [ids], "pending": [ids]} (the markers as decide reads them):
 *     of that login (the connection by name, the application's client id, the organization's id
 *     or null), or of the user through any identity when login is null (explain).
 *   A line that is not a JSON object, or is none of these requests, gets {"invalid": true}.
 */
"use strict";

const readline = require("node:readline");
const { markerOf, markerRecord } = require("./marker");
const { createRule, emailDomain, explain, identityClaim, isRecord, userRefusal } = require("./membership");

/** The kinds of request a line may be, each holding its user (as the first key found). */
const REQUESTS = ["explain", "shape", "decide"];

/** @type {Setup | null} */
let setup = null;

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  const document = parse(line);
  if (setup === null) {
    if (document === null) {
      throw new Error("the first line must be the configuration");
    }
    const organizations = /** @type {import("./membership").Organization[]} */ (document.organizations);
    const at = typeof document.at === "string" ? new Date(document.at) : new Date();
    const refuseAll = document.refuseAll === true;
    setup = { organizations, rule: createRule(organizations), prefix: String(document.markerPrefix), at, refuseAll };
    return;
  }
  const kind = document === null ? undefined : REQUESTS.find((name) => Object.hasOwn(document, name));
  if (document === null || kind === undefined || !isRecord(document[kind])) {
    process.stdout.write('{"invalid":true}\n');
    return;
  }
  const user = /** @type {import("./membership").User} */ (document[kind]);
  const answer =
    kind === "explain" ? explainUser(setup, document) : kind === "shape" ? shapeOf(setup, user) : decideUser(setup, user);
  process.stdout.write(`${JSON.stringify(answer)}\n`);
});

/**
 * What an impact snapshot keeps of a user: each identity's connection, strategy, email domain
 * (as the rule reads it) and whether it is verified; whether the user is blocked; the markers.
 * @param {Setup} setup
 * @param {import("./membership").User} user
 */
function shapeOf(setup, user) {
  const identities = (Array.isArray(user.identities) ? user.identities : []).flatMap((identity) => {
    if (!isRecord(identity) || typeof identity.connection !== "string") {
      return [];
    }
    const claim = identityClaim(user, identity.connection);
    return [
      {
        connection: identity.connection,
        strategy: typeof identity.provider === "string" ? identity.provider : "",
        domain: claim ? emailDomain(claim.email) : null,
        verified: claim ? claim.verified : false,
      },
    ];
  });
  const { marked, pending } = decideUser(setup, user);
  return { identities, blocked: user.blocked === true, marked, pending };
}

/**
 * @param {Setup} setup
 * @param {Record<string, unknown>} request
 */
function explainUser(setup, request) {
  const user = /** @type {import("./membership").User} */ (isRecord(request.explain) ? request.explain : {});
  const login = isRecord(request.login) ? loginOf(user, request.login) : null;
  /** @type {Record<string, ReturnType<typeof explain>>} */
  const explanations = {};
  for (const organization of setup.organizations) {
    explanations[organization.id] = explain(organization, user, login);
  }
  const { marked, pending } = decideUser(setup, user);
  return { explanations, marked, pending };
}

/**
 * The login a request describes: its connection with the strategy the user's identity on it
 * records (Auth0's own database when the user has none there).
 * @param {import("./membership").User} user
 * @param {Record<string, unknown>} login
 * @returns {import("./membership").Login}
 */
function loginOf(user, login) {
  const name = String(login.connection);
  const identities = Array.isArray(user.identities) ? user.identities : [];
  const identity = identities.find((entry) => isRecord(entry) && entry.connection === name);
  const strategy = isRecord(identity) && typeof identity.provider === "string" ? identity.provider : "auth0";
  return {
    connection: { name, strategy },
    clientId: login.client,
    organizationId: typeof login.organization === "string" ? login.organization : null,
  };
}

/**
 * @typedef {{ organizations: import("./membership").Organization[], rule: ReturnType<typeof createRule>, prefix: string, at: Date, refuseAll: boolean }} Setup
 */

/**
 * @param {Setup} setup
 * @param {import("./membership").User} user
 */
function decideUser(setup, user) {
  /** @type {Record<string, string>} */
  const eligible = {};
  /** @type {Record<string, import("./marker").MarkerRecord>} */
  const markers = {};
  for (const { organization, admittedBy } of setup.rule.forUser(user)) {
    eligible[organization.id] = admittedBy;
    markers[organization.id] = markerRecord("backfill", admittedBy, setup.at);
  }
  /** @type {string[]} */
  const marked = [];
  /** @type {string[]} */
  const pending = [];
  /** @type {Record<string, string | null>} */
  const refusals = {};
  for (const organization of setup.organizations) {
    const marker = markerOf(user, setup.prefix, organization.id);
    if (marker?.state === "assigned") {
      marked.push(organization.id);
    } else if (marker?.state === "pending") {
      pending.push(organization.id);
    }
    if ((marker !== undefined || setup.refuseAll) && !Object.hasOwn(eligible, organization.id)) {
      refusals[organization.id] = userRefusal(organization, user);
    }
  }
  return { eligible, marked, pending, refusals, markers };
}

/**
 * @param {string} line
 * @returns {Record<string, unknown> | null}
 */
function parse(line) {
  try {
    const value = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}
