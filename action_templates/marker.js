// @ts-check
/**
 * The marker: what the stack leaves on a user it added to an organization, so that their later
 * logins make no request. One top-level app_metadata key per organization,
 * `${markerPrefix}${organizationId}` (Auth0 merges app_metadata one level deep, so each key is
 * set or removed on its own): true once the user was added with the organization's roles,
 * contract.json's "pending" once the members request was sent but that was not confirmed (the
 * answer did not come in time, or the roles failed). Anything else stored there reads as none.
 *
 * The Action sets it (post_login.js); the backfill sets it and reconcile clears it through
 * eligibility.js, which reads it with this module.
 */
"use strict";

const contract = require("./contract.json");
const { isRecord } = require("./membership");

/** The marker of a members request whose outcome is not known. */
const PENDING = contract.marker.pending;

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
 * The marker this stack left on a user for an organization.
 * @param {import("./membership").User} user
 * @param {string} prefix
 * @param {string} organizationId
 * @returns {true | typeof PENDING | undefined}
 */
function markerOf(user, prefix, organizationId) {
  const metadata = isRecord(user.app_metadata) ? user.app_metadata : {};
  const key = markerKey(prefix, organizationId);
  const value = Object.hasOwn(metadata, key) ? metadata[key] : undefined;
  return value === true || value === PENDING ? value : undefined;
}

module.exports = { PENDING, markerKey, markerOf };
