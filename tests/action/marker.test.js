// @ts-check
// Unit tests of the marker (action_templates/marker.js): node --test tests/action/
"use strict";

const assert = require("node:assert/strict");
const { describe, it } = require("node:test");
const { PENDING, markerKey, markerOf } = require("../../action_templates/marker");

describe("markerOf", () => {
  it("reads a marker under its own key, and anything else as none", () => {
    const user = { app_metadata: { "key:org_a": true, "key:org_b": "pending", "key:org_c": "yes" } };
    assert.equal(markerOf(user, "key:", "org_a"), true);
    assert.equal(markerOf(user, "key:", "org_b"), "pending");
    for (const id of ["org_c", "org_d", "__proto__", "constructor"]) {
      assert.equal(markerOf(user, "key:", id), undefined);
    }
    assert.equal(markerOf({ app_metadata: "not an object" }, "key:", "org_a"), undefined);
    assert.equal(markerOf({}, "key:", "org_a"), undefined);
  });
});

describe("markerKey", () => {
  it("is the prefix and the organization's id, one top-level key per organization", () => {
    assert.equal(markerKey("org_assignment:", "org_a"), "org_assignment:org_a");
    assert.equal(PENDING, "pending");
  });
});
