// @ts-check
/**
 * The membership rule (membership.js) for users who are not logging in: the backfill and
 * reconcile (auth0_org_assignment/commands/eligibility.py) start it once per run and stream users through it, so they
 * decide with the Action's own code. Not part of the Action.
 *
 *   node action_templates/eligibility.js
 *   stdin, one JSON document a line: first
 *     {"organizations": [<as rendered into the Action>], "markerPrefix": "..."}
 *   then one user a line (as the users export gives them). stdout, one line for each user:
 *     {"eligible": [<organization ids, through any identity>],
 *      "marked": [<ids whose marker is true>], "pending": [<ids whose marker is "pending">],
 *      "refusals": {<organization id>: <why not eligible>, for each marked or pending one}}
 *   A line that is not a JSON object gets {"invalid": true}.
 */
"use strict";

const readline = require("node:readline");
const { PENDING, markerOf } = require("./marker");
const { createRule, userRefusal } = require("./membership");

/** @type {{ organizations: import("./membership").Organization[], rule: ReturnType<typeof createRule>, prefix: string } | null} */
let setup = null;

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  const document = parse(line);
  if (setup === null) {
    if (document === null) {
      throw new Error("the first line must be the configuration");
    }
    const organizations = /** @type {import("./membership").Organization[]} */ (document.organizations);
    setup = { organizations, rule: createRule(organizations), prefix: String(document.markerPrefix) };
    return;
  }
  if (document === null) {
    process.stdout.write('{"invalid":true}\n');
    return;
  }
  const user = document;
  const eligible = new Set(setup.rule.forUser(user).map((organization) => organization.id));
  /** @type {string[]} */
  const marked = [];
  /** @type {string[]} */
  const pending = [];
  /** @type {Record<string, string | null>} */
  const refusals = {};
  for (const organization of setup.organizations) {
    const marker = markerOf(user, setup.prefix, organization.id);
    if (marker === true) {
      marked.push(organization.id);
    } else if (marker === PENDING) {
      pending.push(organization.id);
    }
    if (marker !== undefined && !eligible.has(organization.id)) {
      refusals[organization.id] = userRefusal(organization, user);
    }
  }
  process.stdout.write(`${JSON.stringify({ eligible: [...eligible], marked, pending, refusals })}\n`);
});

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
