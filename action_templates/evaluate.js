// @ts-check
/**
 * The membership rule (membership.js) for users who are not logging in: the backfill and
 * reconcile (infra/membership.py) start it once per run and stream users through it, so they
 * decide with the Action's own code. Not part of the Action.
 *
 *   node action_templates/evaluate.js
 *   stdin, one JSON document a line: first
 *     {"organizations": [<as rendered into the Action>], "appMetadataKey": "...",
 *      "strategies": {"<connection name>": "<strategy>", ...}}
 *   then one user a line (as the users export gives them). stdout, one line for each user:
 *     {"eligible": [<organization ids, through any identity>], "markers": {<the user's markers>}}
 *   A line that is not a JSON object gets {"invalid": true}.
 */
"use strict";

const readline = require("node:readline");
const { createRule, markersOf } = require("./membership");

/** @type {{ rule: ReturnType<typeof createRule>, key: string, strategies: Map<string, string> } | null} */
let setup = null;

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  const document = parse(line);
  if (setup === null) {
    if (document === null) {
      throw new Error("the first line must be the configuration");
    }
    setup = {
      rule: createRule(/** @type {any} */ (document.organizations)),
      key: String(document.appMetadataKey),
      strategies: new Map(Object.entries(/** @type {Record<string, string>} */ (document.strategies))),
    };
    return;
  }
  if (document === null) {
    process.stdout.write('{"invalid":true}\n');
    return;
  }
  const eligible = setup.rule.forUser(document, setup.strategies).map((organization) => organization.id);
  process.stdout.write(`${JSON.stringify({ eligible, markers: markersOf(document, setup.key) })}\n`);
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
