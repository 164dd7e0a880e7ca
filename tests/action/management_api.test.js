// @ts-check
// Unit tests of the Management API session's pure parts (action_templates/management_api.js);
// the session against a tenant is tests/test_post_login_action.py's.
"use strict";

const assert = require("node:assert/strict");
const { describe, it } = require("node:test");
const { ENDPOINTS, retryDelayMs } = require("../../action_templates/management_api");

/**
 * @param {Record<string, string>} headers
 * @returns {import("../../action_templates/management_api").Answer}
 */
function answer(headers) {
  return { status: 429, header: (name) => headers[name] ?? null, json: () => null };
}

describe("retryDelayMs", () => {
  it("waits as Retry-After says, in seconds", () => {
    assert.equal(retryDelayMs(answer({ "retry-after": "2" })), 2000);
  });
  it("waits until a Retry-After date", () => {
    const inThreeSeconds = new Date(Date.now() + 3000).toUTCString();
    const ms = retryDelayMs(answer({ "retry-after": inThreeSeconds }));
    assert.ok(ms > 1500 && ms <= 3000, String(ms));
  });
  it("waits until x-ratelimit-reset (Unix seconds) when Retry-After is not sent", () => {
    const reset = String(Math.ceil(Date.now() / 1000) + 2);
    const ms = retryDelayMs(answer({ "x-ratelimit-reset": reset, "x-ratelimit-remaining": "0" }));
    assert.ok(ms > 1000 && ms <= 3000, String(ms));
  });
  it("never waits a negative time, and 100 ms when nothing says", () => {
    assert.equal(retryDelayMs(answer({ "x-ratelimit-reset": "1000" })), 0);
    assert.equal(retryDelayMs(answer({})), 100);
    assert.equal(retryDelayMs(answer({ "retry-after": "soon" })), 100);
  });
});

describe("ENDPOINTS", () => {
  it("cannot be added to at run time", () => {
    assert.ok(Object.isFrozen(ENDPOINTS));
  });
});
