// @ts-check
// Unit tests of routing.js: which of a stack's Actions owns a login.
"use strict";

const assert = require("node:assert/strict");
const { describe, it } = require("node:test");
const { createRouter, fnv1a, registeredDomain } = require("../../action_templates/routing");

const DATABASE = "Username-Password-Authentication";

/** @param {string} email */
function user(email) {
  return { email, email_verified: true, identities: [{ connection: DATABASE, provider: "auth0" }] };
}

describe("routing", () => {
  it("reads the registered domain by the longest configured suffix", () => {
    const suffixes = new Set(["com", "co.uk", "uk"]);
    assert.equal(registeredDomain("a.b.acme.co.uk", suffixes), "acme.co.uk");
    assert.equal(registeredDomain("eu.acme.com", suffixes), "acme.com");
    assert.equal(registeredDomain("x.example.org", suffixes), "example.org");
  });

  it("gives every login to exactly one Action, by its email's registered domain", () => {
    const routers = [0, 1, 2].map((shard) => createRouter({ shard, shards: 3, suffixes: ["com"] }));
    for (const email of ["a@acme.com", "b@eu.acme.com", "c@beta.com", "nobody", ""]) {
      const owners = routers.filter((router) => router.owns(user(email), DATABASE));
      assert.equal(owners.length, 1, email);
    }
    const owner = (/** @type {string} */ email) => routers.findIndex((r) => r.owns(user(email), DATABASE));
    assert.equal(owner("a@acme.com"), owner("b@eu.acme.com"));
    assert.equal(owner("a@acme.com"), fnv1a("acme.com") % 3);
  });

  it("lets a lone Action own every login", () => {
    assert.equal(createRouter(null).owns(user("a@acme.com"), DATABASE), true);
  });
});
