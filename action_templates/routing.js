// @ts-check
/**
 * Which of a stack's Actions owns a login: the organizations are sharded across Actions by a
 * hash of the registered domain of the login's email (the email the rule reads, membership.js),
 * so a login's domain can be found in one Action only. That Action applies the rule and may call
 * the Management API; every other one returns at once (a hash, no request), so the flow's
 * worst case is one Action's time budget, however many Actions the stack binds.
 *
 * Rules that admit any user of a connection (`anyUser`) are in every Action and applied by the
 * owner alone, so they too are applied once. Python plans the shards with the same function
 * (auth0_org_assignment/action_code.py, `route_key` and `fnv1a`; a test checks they agree).
 */
"use strict";

const { emailDomain, identityClaim } = require("./membership");

/**
 * What the stack renders into the configuration block when it binds several Actions.
 * @typedef {object} Routing
 * @property {number} shard  this Action's place, from 0
 * @property {number} shards  how many Actions the stack binds
 * @property {string[]} suffixes  the public suffixes of the configured domains (publicsuffix.org)
 */

/**
 * FNV-1a, 32 bits, of an ASCII string.
 * @param {string} text
 * @returns {number}
 */
function fnv1a(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The registered domain of `domain` (lowercase ASCII) as far as the stack's domains tell: the
 * label before the longest of `suffixes` it ends in, with that suffix; without one, its last two
 * labels (no configured domain can then match it).
 * @param {string} domain
 * @param {Set<string>} suffixes
 * @returns {string}
 */
function registeredDomain(domain, suffixes) {
  const labels = domain.split(".");
  for (let i = 1; i < labels.length; i++) {
    if (suffixes.has(labels.slice(i).join("."))) {
      return labels.slice(i - 1).join(".");
    }
  }
  return labels.slice(-2).join(".");
}

/**
 * The key a login is routed by: the registered domain of the email of the identity it comes
 * through, or "" when it has none the rule could read.
 * @param {import("./membership").User} user
 * @param {string} connectionName
 * @param {Set<string>} suffixes
 * @returns {string}
 */
function routeKey(user, connectionName, suffixes) {
  const claim = identityClaim(user, connectionName);
  const domain = claim ? emailDomain(claim.email) : null;
  return domain === null ? "" : registeredDomain(domain, suffixes);
}

/**
 * @param {Routing | null | undefined} routing  null: the stack binds one Action, which owns every login
 */
function createRouter(routing) {
  if (!routing || routing.shards <= 1) {
    return { owns: () => true };
  }
  const suffixes = new Set(routing.suffixes);
  return {
    /**
     * Whether this Action owns a login coming through `connectionName`.
     * @param {import("./membership").User} user
     * @param {string} connectionName
     * @returns {boolean}
     */
    owns: (user, connectionName) => fnv1a(routeKey(user, connectionName, suffixes)) % routing.shards === routing.shard,
  };
}

module.exports = { createRouter, fnv1a, registeredDomain };
