// @ts-check
/**
 * The marker: what the stack leaves on a user it added to an organization, so that their later
 * logins make no request, and so that anyone can tell how they came in. One top-level
 * app_metadata key per organization, `${markerPrefix}${organizationId}` (Auth0 merges
 * app_metadata one level deep, so each key is set or removed on its own), holding a record:
 *   { via: "login" | "backfill", at: <ISO 8601 time>, by: <the clause that admitted them,
 *     e.g. "emailDomains: acme.com">, pending?: true }
 * `pending` marks a members request that was sent but not confirmed (the answer did not come in
 * time, or the roles failed): the next login tries again, and reconcile still counts the
 * membership as the stack's. Markers written before records existed still count: true is an
 * assignment, contract.json's "pending" a pending one. Anything else reads as no marker.
 *
 * The Action sets it (post_login.js); the backfill sets the records eligibility.js makes with
 * this module, and reconcile clears it.
 */
"use strict";

const contract = require("./contract.json");
const { isRecord } = require("./membership");

/** The marker value of an unconfirmed members request, before markers were records. */
const PENDING = contract.marker.pending;

/**
 * @typedef {object} MarkerRecord
 * @property {"login" | "backfill"} via  how the member came in
 * @property {string} at  when, as an ISO 8601 time
 * @property {string} by  the clause that admitted them, as `decide` names it
 * @property {true} [pending]  the members request was sent, its outcome not known
 */

/**
 * @typedef {{ state: "assigned" | "pending", record: MarkerRecord | null }} Marker
 */

/**
 * The app_metadata key of the marker for one organization.
 * @param {string} prefix  the stack's marker prefix (its settings' markerPrefix)
 * @param {string} organizationId
 * @returns {string}
 */
function markerKey(prefix, organizationId) {
  return `${prefix}${organizationId}`;
}

/**
 * The marker this stack left on a user for an organization, or undefined.
 * @param {import("./membership").User} user
 * @param {string} prefix
 * @param {string} organizationId
 * @returns {Marker | undefined}
 */
function markerOf(user, prefix, organizationId) {
  const metadata = isRecord(user.app_metadata) ? user.app_metadata : {};
  const key = markerKey(prefix, organizationId);
  const value = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
  if (value === true) {
    return { state: "assigned", record: null };
  }
  if (value === PENDING) {
    return { state: "pending", record: null };
  }
  if (isMarkerRecord(value)) {
    return { state: value.pending === true ? "pending" : "assigned", record: value };
  }
  return undefined;
}

/**
 * The record to leave on a user admitted `by` a clause, `via` a login or the backfill, `at` a
 * time; `pending` when the members request's outcome is not known.
 * @param {"login" | "backfill"} via
 * @param {string} by
 * @param {Date} at
 * @param {boolean} [pending]
 * @returns {MarkerRecord}
 */
function markerRecord(via, by, at, pending = false) {
  // Seconds are enough, and keep the record short (app_metadata is part of every profile).
  const record = { via, at: at.toISOString().replace(/\.\d{3}Z$/, "Z"), by };
  return pending ? { ...record, pending: true } : record;
}

/**
 * @param {unknown} value
 * @returns {value is MarkerRecord}
 */
function isMarkerRecord(value) {
  return (
    isRecord(value) &&
    (value.via === "login" || value.via === "backfill") &&
    typeof value.at === "string" &&
    typeof value.by === "string"
  );
}

module.exports = { PENDING, markerKey, markerOf, markerRecord };
