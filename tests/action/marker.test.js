// @ts-check
// Unit tests of the marker (action_templates/marker.js): node --test tests/action/
"use strict";

const assert = require("node:assert/strict");
const { describe, it } = require("node:test");
const { PENDING, markerKey, markerOf, markerRecord } = require("../../action_templates/marker");

describe("markerOf", () => {
  const record = { via: "login", at: "2026-12-02T09:00:00Z", by: "emailDomains: acme.com" };
  const user = {
    app_metadata: {
      "key:org_a": record,
      "key:org_b": { ...record, pending: true },
      "key:org_c": "yes",
      "key:org_d": { via: "somehow", at: "x", by: "y" },
      "key:old_a": true,
      "key:old_b": "pending",
    },
  };

  it("reads a record: how, when and by which clause the member came in", () => {
    assert.deepEqual(markerOf(user, "key:", "org_a"), { state: "assigned", record });
    assert.deepEqual(markerOf(user, "key:", "org_b"), { state: "pending", record: { ...record, pending: true } });
  });
  it("still counts the markers written before records", () => {
    assert.deepEqual(markerOf(user, "key:", "old_a"), { state: "assigned", record: null });
    assert.deepEqual(markerOf(user, "key:", "old_b"), { state: "pending", record: null });
  });
  it("reads anything else as no marker", () => {
    for (const id of ["org_c", "org_d", "org_e", "__proto__", "constructor"]) {
      assert.equal(markerOf(user, "key:", id), undefined, id);
    }
    assert.equal(markerOf({ app_metadata: "not an object" }, "key:", "org_a"), undefined);
    assert.equal(markerOf({}, "key:", "org_a"), undefined);
  });
});

describe("markerRecord", () => {
  it("says how, when (to the second) and why, and whether the outcome is known", () => {
    const at = new Date("2026-12-02T09:00:00.123Z");
    assert.deepEqual(markerRecord("backfill", "emailDomains: *.acme.com", at), {
      via: "backfill",
      at: "2026-12-02T09:00:00Z",
      by: "emailDomains: *.acme.com",
    });
    assert.equal(markerRecord("login", "x", at, true).pending, true);
  });
  it("is read back as it was written", () => {
    const user = { app_metadata: { "key:org_a": markerRecord("login", "emailDomains: acme.com", new Date()) } };
    assert.equal(markerOf(user, "key:", "org_a")?.state, "assigned");
  });
});

describe("markerKey", () => {
  it("is the prefix and the organization's id, one top-level key per organization", () => {
    assert.equal(markerKey("org_assignment:", "org_a"), "org_assignment:org_a");
    assert.equal(PENDING, "pending");
  });
});
