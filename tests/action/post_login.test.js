// @ts-check
// Unit tests of the handler (action_templates/post_login.js) on what it decides without a
// request; the requests against a tenant are tests/test_post_login_action.py's.
"use strict";

const assert = require("node:assert/strict");
const { describe, it } = require("node:test");
const { createHandler } = require("../../action_templates/post_login");

const DATABASE = { id: "con_db", name: "Username-Password-Authentication", strategy: "auth0" };

/** @typedef {import("../../action_templates/post_login").Settings} Settings */

/** A test stack's settings as the stack renders them (its snapshot), so a new setting needs no
 * change here. */
const RENDERED = /** @type {Settings} */ (
  require("../stacks/snapshots.json")["one-organization"].settings
);

/** @param {Partial<Settings>} [settings] */
function handler(settings = {}) {
  return createHandler({
    settings: {
      ...RENDERED,
      timeBudgetMs: 1000,
      denyMessage: "Sorry",
      ...settings,
    },
    connections: [DATABASE.name],
    organizations: [["org_acme", [0], "acme.com", { applications: null }]],
    routing: null,
  });
}

/** @param {Record<string, unknown>} [user] @param {Record<string, unknown>} [extra] */
function login(user = {}, extra = {}) {
  const event = /** @type {any} */ ({
    user: {
      user_id: "auth0|1",
      email: "a@acme.com",
      email_verified: true,
      identities: [{ connection: DATABASE.name, provider: "auth0" }],
      ...user,
    },
    connection: DATABASE,
    client: { client_id: "app" },
    // Nothing listens here: a login that sends a request fails at once.
    secrets: { TENANT_DOMAIN: "127.0.0.1:1", CLIENT_ID: "id", CLIENT_SECRET: "secret" },
    ...extra,
  });
  /** @type {{ denied: string | null, metadata: unknown[], claims: unknown[], cacheReads: number }} */
  const seen = { denied: null, metadata: [], claims: [], cacheReads: 0 };
  const claim = (/** @type {string} */ name, /** @type {unknown} */ value) => seen.claims.push([name, value]);
  const api = {
    access: { deny: (/** @type {string} */ reason) => (seen.denied = reason) },
    user: { setAppMetadata: (/** @type {string} */ key, /** @type {unknown} */ value) => seen.metadata.push([key, value]) },
    idToken: { setCustomClaim: claim },
    accessToken: { setCustomClaim: claim },
    cache: {
      get: () => {
        seen.cacheReads += 1;
        return undefined;
      },
      set: () => ({ type: "success" }),
    },
  };
  return { event, api, seen };
}

/** @param {() => Promise<void>} run @returns {Promise<Record<string, unknown>[]>} */
async function reports(run) {
  /** @type {Record<string, unknown>[]} */
  const lines = [];
  const log = console.log;
  console.log = (/** @type {string} */ line) => lines.push(JSON.parse(line));
  try {
    await run();
  } finally {
    console.log = log;
  }
  return lines;
}

describe("onExecutePostLogin", () => {
  it("skips a marked user without a request", async () => {
    const { event, api, seen } = login({ app_metadata: { "org_assignment:org_acme": true } });
    const [report] = await reports(() => handler()(event, api));
    assert.equal(report.outcome, "skipped-already-member");
    assert.equal(seen.cacheReads, 0);
  });

  it("tries again where the marker is pending", async () => {
    const { event, api, seen } = login({ app_metadata: { "org_assignment:org_acme": "pending" } });
    const [report] = await reports(() => handler()(event, api));
    assert.equal(report.outcome, "failed");
    assert.ok(seen.cacheReads > 0);
  });

  it("skips a login that matches no rule without a request", async () => {
    const { event, api, seen } = login({ email: "a@evil.io" });
    const [report] = await reports(() => handler()(event, api));
    assert.deepEqual([report.outcome, report.via], ["skipped-no-match", "rules"]);
    assert.equal(seen.cacheReads, 0);
  });

  it("skips an organization login, telling its own from another's", async () => {
    for (const [id, outcome] of [
      ["org_acme", "skipped-already-member"],
      ["org_other", "skipped-other-organization"],
    ]) {
      const { event, api } = login({}, { organization: { id } });
      const [report] = await reports(() => handler()(event, api));
      assert.equal(report.outcome, outcome);
    }
  });

  it("fails open when the tenant cannot be reached, and marks nothing", async () => {
    const { event, api, seen } = login();
    const [report] = await reports(() => handler()(event, api));
    assert.equal(report.outcome, "failed");
    assert.equal(seen.denied, null);
    assert.deepEqual(seen.metadata, []);
  });

  it("fails closed with the configured message only", async () => {
    const { event, api, seen } = login();
    const [report] = await reports(() => handler({ failurePolicy: "closed" })(event, api));
    assert.equal(report.outcome, "failed");
    assert.equal(seen.denied, "Sorry");
  });

  it("never throws, even on an event it cannot read", async () => {
    const { api, seen } = login();
    const broken = /** @type {any} */ ({ user: { user_id: "auth0|1" }, connection: null, secrets: {} });
    const [report] = await reports(() => handler({ failurePolicy: "closed" })(broken, api));
    assert.equal(report.outcome, "failed");
    assert.equal(seen.denied, "Sorry");
  });
});
