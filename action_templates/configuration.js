// @ts-check
/**
 * The configuration block as the stack packs it into the Action's code, and its unpacking.
 *
 * Auth0 takes 100 kB of code per Action, so the block is packed (auth0_org_assignment/
 * action_code.py, `pack_organizations`, writes it; this file is its one reader: the Python
 * tools and the policy pack run `unpack` in Node, auth0_org_assignment/node.py): each organization
 * is one line, an array of its id, its connections as indexes into the block's `connections`,
 * its email domains in one string (`acme.com *.acme.com`: a `*.` domain is `subdomainsOf`), and,
 * only when it sets any, an object of its other clauses under their rule names (`roles`,
 * `applications`, `anyUser`, `trusted`, ...). Its name is not in the Action: logs name the id.
 */
"use strict";

/**
 * An organization's packed line: id, connection indexes, domains, and its other clauses.
 * @typedef {[string, number[], string] | [string, number[], string, PackedClauses]} PackedOrganization
 */

/**
 * An organization's clauses other than those its line holds in place: what the rule reads
 * (membership.js's `Organization`), each only when the organization sets it.
 * @typedef {Partial<Omit<import("./membership").Organization, "id" | "name" | "connections" | "domains" | "subdomainsOf">>} PackedClauses
 */

/**
 * The block as rendered into the code.
 * @typedef {object} PackedConfiguration
 * @property {string[]} connections  the names the organizations' indexes point into
 * @property {PackedOrganization[]} organizations
 * @property {import("./routing").Routing | null} routing
 * @property {import("./post_login").Settings} settings
 */

const SUBDOMAINS = "*.";

/**
 * The configuration the handler reads, from the block the stack packed.
 * @param {PackedConfiguration} packed
 * @returns {import("./post_login").Configuration}
 */
function unpack(packed) {
  const organizations = packed.organizations.map(([id, connections, domains, clauses]) => {
    const names = domains.split(" ").filter(Boolean);
    const exact = names.filter((name) => !name.startsWith(SUBDOMAINS));
    const subdomains = names.filter((name) => name.startsWith(SUBDOMAINS)).map((name) => name.slice(SUBDOMAINS.length));
    /** @type {import("./membership").Organization} */
    const organization = {
      id,
      connections: connections.map((index) => packed.connections[index]),
      roles: [],
      ...(exact.length ? { domains: exact } : {}),
      ...(subdomains.length ? { subdomainsOf: subdomains } : {}),
      ...clauses,
    };
    return organization;
  });
  return { organizations, routing: packed.routing, settings: packed.settings };
}

module.exports = { unpack };
