// @ts-check
/**
 * The membership rule (membership.js) for users who are not logging in: the backfill and
 * reconcile (infra/membership.py) start it once per run and stream users through it, so they
 * decide with the Action's own code. Not part of the Action.
 *
 *   node action_templates/evaluate.js
 *   stdin, one JSON document a line: first
 *     {"organizations": [<as rendered into the Action>], "appMetadataKey": "..."}
 *   then one user a line (as the users export gives them). stdout, one line for each user:
 *     {"eligible": [<organization ids, through any identity>], "markers": {<the user's markers>},
 *      "refusals": {<organization id>: <why not eligible>, for each marked one not eligible}}
 *   A line that is not a JSON object gets {"invalid": true}.
 */
"use strict";

const readline = require("node:readline");
const { createRule, markersOf, userRefusal } = require("./membership");

/** @type {{ organizations: import("./membership").Organization[], rule: ReturnType<typeof createRule>, key: string } | null} */
let setup = null;

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  const document = parse(line);
  if (setup === null) {
    if (document === null) {
      throw new Error("the first line must be the configuration");
    }
    const organizations = /** @type {import("./membership").Organization[]} */ (document.organizations);
    setup = { organizations, rule: createRule(organizations), key: String(document.appMetadataKey) };
    return;
  }
  if (document === null) {
    process.stdout.write('{"invalid":true}\n');
    return;
  }
  const user = document;
  const eligible = new Set(setup.rule.forUser(user).map((organization) => organization.id));
  const markers = markersOf(user, setup.key);
  /** @type {Record<string, string | null>} */
  const refusals = {};
  for (const organization of setup.organizations) {
    if (markers[organization.id] === true && !eligible.has(organization.id)) {
      refusals[organization.id] = userRefusal(organization, user);
    }
  }
  process.stdout.write(`${JSON.stringify({ eligible: [...eligible], markers, refusals })}\n`);
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
