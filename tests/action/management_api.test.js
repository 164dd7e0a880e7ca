// @ts-check
// Unit tests of the Management API session's pure parts (action_templates/management_api.js);
// the session against a tenant is tests/test_post_login_action.py's.
"use strict";

const assert = require("node:assert/strict");
const { describe, it } = require("node:test");
const { ENDPOINTS, retryDelayMs, vaultOf } = require("../../action_templates/management_api");

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
  it("reads x-ratelimit-reset only when the limit was hit", () => {
    const reset = String(Math.ceil(Date.now() / 1000) + 2);
    const failed = { ...answer({ "x-ratelimit-reset": reset }), status: 503 };
    assert.equal(retryDelayMs(failed), 100);
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

describe("vaultOf", () => {
  const secrets = { TENANT_DOMAIN: "t.eu.auth0.com", CLIENT_ID: "client", CLIENT_SECRET: "s3cret" };
  const token = "eyJhbGciOi.payload.signature";

  it("keeps the token sealed under a key that names neither the client nor the token", () => {
    const vault = vaultOf(secrets);
    const sealed = vault.seal(token);
    assert.ok(!sealed.includes(token.slice(0, 12)) && !vault.key.includes("client"));
    assert.ok(Buffer.byteLength(vault.key) <= 64);
    assert.equal(vault.open(sealed), token);
  });

  it("opens nothing sealed with another secret, forged or tampered with", () => {
    const sealed = vaultOf(secrets).seal(token);
    const other = vaultOf({ ...secrets, CLIENT_SECRET: "another" });
    assert.notEqual(other.key, vaultOf(secrets).key);
    assert.equal(other.open(sealed), null);
    const flipped = Buffer.from(sealed, "base64url");
    flipped[flipped.length - 1] ^= 1;
    assert.equal(vaultOf(secrets).open(flipped.toString("base64url")), null);
    assert.equal(vaultOf(secrets).open(token), null);
  });

  it("opens nothing whose authentication tag is cut short", () => {
    // AES-GCM checks as many bytes of the tag as it is given: a value cut to 4 bytes of a real
    // tag passes a 4-byte check, and one of 2^32 guesses forges a value with none.
    const vault = vaultOf(secrets);
    const whole = Buffer.from(vault.seal(""), "base64url");
    for (const tagBytes of [4, 8, 12, 15]) {
      assert.equal(vault.open(whole.subarray(0, 12 + tagBytes).toString("base64url")), null);
    }
    assert.equal(vault.open(whole.toString("base64url")), "");
  });
});
