// @ts-check
/**
 * Who may join which organization: the one implementation of the rule.
 *
 * The post-login Action applies it at each login (post_login.js); the backfill and reconcile run
 * this same file in Node on exported users, through eligibility.js. Pure: no I/O, no clock,
 * nothing read but its arguments.
 *
 * A user is eligible for an organization through one of their identities when:
 * - the identity's connection is one of the organization's connections;
 * - the user is not blocked;
 * - and either the organization admits any user of its connections (`anyUser`), or the
 *   identity's own email is verified, vouched for by its connection (Auth0's database and
 *   passwordless email connections, or one listed in `trusted`), and its domain is one of the
 *   organization's domains (exactly) or a subdomain of one in `subdomainsOf`; a connection
 *   listed in `trustedConnectionDomains` vouches only for the domains listed for it there.
 * The Action further requires the login's application to be listed, when `applications` is.
 */
"use strict";

const { domainToASCII } = require("node:url");

/**
 * An organization's rule, as the stack renders it into the configuration block
 * (auth0_org_assignment/action_code.py, organization_rule; a test has TypeScript check what it
 * renders against this type). What a clause reads is there only when the organization uses it.
 * @typedef {object} Organization
 * @property {string} id
 * @property {string} [name]  in the commands' rules; the Action's code leaves it out (configuration.js)
 * @property {string[]} connections  names of the connections a member comes through
 * @property {string[]} roles  organization role ids given on joining
 * @property {string[] | null} [applications]  client ids whose logins may assign; absent: any
 * @property {boolean} [anyUser]  every user of those connections may join
 * @property {string[]} [domains]  email domains, lowercase ASCII, matched exactly
 * @property {string[]} [subdomainsOf]  any subdomain of these matches (not the domain itself)
 * @property {string[]} [trusted]  connections whose email_verified counts besides Auth0's own
 * @property {Record<string, string[]>} [trustedConnectionDomains]  for a connection, the only
 *   domains (`acme.com`, `*.acme.com`, as configured) whose addresses it vouches for
 */

/**
 * The parts of an Auth0 user the rule reads. Anything may be missing or of another type: a
 * user comes from a login's event or from a users export, and neither is trusted to be tidy.
 * @typedef {object} User
 * @property {unknown} [user_id]
 * @property {unknown} [email]
 * @property {unknown} [email_verified]
 * @property {unknown} [blocked]
 * @property {unknown} [identities]
 * @property {unknown} [app_metadata]
 */

/**
 * An organization that admits a user, and the clause that does (`emailDomains: acme.com`).
 * @typedef {{ organization: Organization, admittedBy: string }} Admission
 */

/**
 * A connection a user comes through: its name and strategy (`auth0`, `google-oauth2`, `samlp`...).
 * @typedef {{ name: string, strategy: string }} Connection
 */

/**
 * Why the rule does not admit someone: one of contract.json's refusals.
 * @typedef {keyof typeof import("./contract.json")["refusals"]} Refusal
 */

/** Strategies whose email_verified Auth0 sets itself: its database and passwordless email. */
const SELF_VERIFYING_STRATEGIES = new Set(["auth0", "email"]);

// A host name as DNS allows it, once in ASCII: labels of letters, digits and inner hyphens, at
// most 63 characters each and 253 in all, at least two, the last not all digits (an address).
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const HOST_MAX = 253;
// Never in an address's domain: what a URL parser would read as a path, port, query, fragment,
// percent-escape or IPv6 literal, and so silently drop (`acme.com/evil.io` is not acme.com).
const NOT_IN_DOMAIN = /[/\\:?#%[\]]/;
const WHITESPACE_OR_CONTROL = /[\s\p{Cc}]/u;
// UTS 46's deviation characters, and the capital sharp s: software that maps host names the
// older way (IDNA 2003, transitional) reads them as another domain (ß as "ss"), so mail to such
// an address may reach another domain's owner. An address holding one matches no domain.
const DEVIATIONS = /[\u00DF\u1E9E\u03C2\u200C\u200D]/u;
// Any character outside ASCII: only a domain holding one can map to another spelling.
const NON_ASCII = /[^\p{ASCII}]/gu;
// The longest address SMTP carries (RFC 5321): mapping a longer one only costs time.
const ADDRESS_MAX = 254;

/**
 * The domain of an email address in lowercase ASCII, or null when the address is not one.
 *
 * Strict: at most 254 characters, exactly one `@` with something before it, no whitespace or
 * control character, none of `/ \ : ? # % [ ]` after it, no IDNA deviation character, no
 * character the mapping removes, and a host name DNS allows. The domain is mapped as browsers
 * and Node map host names (UTS 46, non-transitional), so `Bücher.de` and `xn--bcher-kva.de` are
 * one domain.
 * @param {unknown} address
 * @returns {string | null}
 */
function emailDomain(address) {
  if (typeof address !== "string" || address.length > ADDRESS_MAX || WHITESPACE_OR_CONTROL.test(address)) {
    return null;
  }
  const at = address.indexOf("@");
  if (at < 1 || at !== address.lastIndexOf("@")) {
    return null;
  }
  const domain = address.slice(at + 1);
  if (NOT_IN_DOMAIN.test(domain) || DEVIATIONS.test(domain.normalize("NFKC")) || holdsIgnored(domain)) {
    return null;
  }
  const ascii = domainToASCII(domain);
  return isHostName(ascii) ? ascii : null;
}

/**
 * Whether `domain` holds a character UTS 46 maps to nothing (a soft hyphen, a zero-width space,
 * a word joiner, a variation selector, a combining grapheme joiner...): `ac\u200Bme.com` reads
 * as acme.com, a spelling the configuration refuses (auth0_org_assignment/config/
 * email_domains.py: it maps to another domain than its own), so the address matches no domain.
 * Case, letters the mapping changes and A-labels are read as before. Each such character is
 * asked of the mapping itself, Node's, between two letters: no table of them to keep.
 * @param {string} domain
 * @returns {boolean}
 */
function holdsIgnored(domain) {
  for (const character of new Set(domain.match(NON_ASCII) ?? [])) {
    if (domainToASCII(`a${character}b.example`) === "ab.example") {
      return true;
    }
  }
  return false;
}

/**
 * @param {string} host
 * @returns {boolean}
 */
function isHostName(host) {
  const labels = host.split(".");
  return (
    host.length <= HOST_MAX &&
    labels.length >= 2 &&
    labels.every((label) => LABEL.test(label)) &&
    !/^[0-9]+$/.test(labels[labels.length - 1])
  );
}

/**
 * The email claim of the identity a user comes through on `connectionName`: the user's own
 * `email` and `email_verified` for the primary identity, the identity's `profileData` for a
 * linked one. Null when the user has no identity there, or more than one (which of them logged
 * in cannot be told).
 * @param {User} user
 * @param {string} connectionName
 * @returns {{ email: unknown, verified: boolean } | null}
 */
function identityClaim(user, connectionName) {
  const identities = Array.isArray(user.identities) ? user.identities : [];
  const through = identitiesThrough(user, connectionName);
  if (through.length !== 1) {
    return null;
  }
  const source = through[0] === primaryIdentity(user, identities) ? user : through[0].profileData;
  if (!isRecord(source)) {
    return null;
  }
  return { email: source.email, verified: source.email_verified === true };
}

/**
 * The identity the user's own `email` belongs to: the one the user's id names
 * (`<provider>|<its user_id>`), else the first, where Auth0 lists it; none when several bear
 * the id (two database connections may hold the same user_id), so no identity takes the
 * user's own address.
 * @param {User} user
 * @param {unknown[]} identities
 * @returns {unknown}
 */
function primaryIdentity(user, identities) {
  const named = identities.filter(
    (identity) => isRecord(identity) && `${identity.provider}|${identity.user_id}` === user.user_id,
  );
  return named.length === 0 ? identities[0] : named.length === 1 ? named[0] : null;
}

/**
 * The clauses that admit someone to an organization, each written once with what the index needs
 * to find the organizations it applies to: `keysOf` an organization, and `keysFor` a user coming
 * through a connection. A login is checked against every organization some clause files under
 * one of its keys, so an organization is never out of reach of a clause that could admit it.
 * `admits` says why a user is not admitted by the clause, or null when they are; `describe`
 * says what of it admitted them (the connection, the domain): `decide` names the clause by its
 * `name` before it, and the marker and the explanation record that (`emailDomains: acme.com`).
 * @typedef {object} Clause
 * @property {string} name  the configuration key the clause comes from
 * @property {(organization: Organization) => boolean} appliesTo
 * @property {(organization: Organization) => string[]} keysOf
 * @property {(user: User, connection: Connection) => string[]} keysFor
 * @property {(organization: Organization, user: User, connection: Connection) => Refusal | null} admits
 * @property {(organization: Organization, user: User, connection: Connection) => string} describe
 */

/** @type {readonly Clause[]} */
const CLAUSES = Object.freeze([
  {
    name: "allowAnyUserOfConnection",
    appliesTo: (organization) => organization.anyUser === true,
    keysOf: (organization) => organization.connections.map((name) => `connection:${name}`),
    keysFor: (_user, connection) => [`connection:${connection.name}`],
    admits: () => null,
    describe: (_organization, _user, connection) => connection.name,
  },
  {
    name: "emailDomains",
    appliesTo: (organization) => Boolean(organization.domains?.length || organization.subdomainsOf?.length),
    keysOf: (organization) => [
      ...(organization.domains ?? []).map((domain) => `domain:${domain}`),
      ...(organization.subdomainsOf ?? []).map((parent) => `subdomains:${parent}`),
    ],
    keysFor: (user, connection) => {
      const claim = identityClaim(user, connection.name);
      const domain = claim ? emailDomain(claim.email) : null;
      if (domain === null) {
        return [];
      }
      const parents = [];
      for (let dot = domain.indexOf("."); dot !== -1; dot = domain.indexOf(".", dot + 1)) {
        parents.push(`subdomains:${domain.slice(dot + 1)}`);
      }
      return [`domain:${domain}`, ...parents];
    },
    admits: (organization, user, connection) => {
      const vouched =
        SELF_VERIFYING_STRATEGIES.has(connection.strategy) || Boolean(organization.trusted?.includes(connection.name));
      if (!vouched) {
        return "email-not-vouched-for";
      }
      const claim = identityClaim(user, connection.name);
      if (!claim && identitiesThrough(user, connection.name).length > 1) {
        return "identity-ambiguous";
      }
      // Only a verified email counts: anyone can type any address into a sign-up form.
      if (!claim || !claim.verified) {
        return "email-not-verified";
      }
      const domain = emailDomain(claim.email);
      const matches = domain === null ? [] : matchingDomains(organization, domain);
      if (matches.length === 0) {
        return "email-domain-not-in-rule";
      }
      // A connection limited to some domains vouches for no address outside them: another
      // directory behind it (a multi-tenant one) could assert any address.
      return vouchedDomain(organization, matches, connection) === null ? "email-not-vouched-for" : null;
    },
    describe: (organization, user, connection) => {
      const claim = identityClaim(user, connection.name);
      const domain = claim ? emailDomain(claim.email) : null;
      return domain === null ? "" : (vouchedDomain(organization, matchingDomains(organization, domain), connection) ?? "");
    },
  },
]);

/**
 * What the rule decides of `user`, coming through `connection`, for `organization`: the clause
 * that admits them (as `emailDomains: acme.com`), or why not. Every clause that applies is
 * tried; the first that admits wins; when none does, the first one's refusal is the reason.
 * @param {Organization} organization
 * @param {User} user
 * @param {Connection} connection
 * @returns {{ admittedBy: string } | { refusal: Refusal }}
 */
function decide(organization, user, connection) {
  if (user.blocked === true) {
    return { refusal: "blocked" };
  }
  if (!organization.connections.includes(connection.name)) {
    return { refusal: "connection-not-in-rule" };
  }
  /** @type {Refusal | null} */
  let first = null;
  for (const clause of CLAUSES) {
    if (!clause.appliesTo(organization)) {
      continue;
    }
    const refused = clause.admits(organization, user, connection);
    if (refused === null) {
      return { admittedBy: `${clause.name}: ${clause.describe(organization, user, connection)}` };
    }
    first ??= refused;
  }
  // The configuration gives every organization a clause; one without admits nobody.
  return { refusal: first ?? "email-domain-not-in-rule" };
}

/**
 * The user's identities on `connectionName`.
 * @param {User} user
 * @param {string} connectionName
 * @returns {Record<string, unknown>[]}
 */
function identitiesThrough(user, connectionName) {
  const identities = Array.isArray(user.identities) ? user.identities : [];
  return identities.filter((identity) => isRecord(identity) && identity.connection === connectionName);
}

/**
 * Why `organization`'s rule does not let `user`, coming through `connection`, be a member; null
 * when it does. The reasons are the ones reconcile reports to those who leave.
 * @param {Organization} organization
 * @param {User} user
 * @param {Connection} connection
 * @returns {Refusal | null}
 */
function refusal(organization, user, connection) {
  const decision = decide(organization, user, connection);
  return "refusal" in decision ? decision.refusal : null;
}

/**
 * Whether `organization`'s rule lets `user`, coming through `connection`, be a member.
 * @param {Organization} organization
 * @param {User} user
 * @param {Connection} connection
 * @returns {boolean}
 */
function eligible(organization, user, connection) {
  return refusal(organization, user, connection) === null;
}

/**
 * Every configured domain `domain` matches in `organization`, the most specific first: itself
 * (`acme.com`), then each `*.` pattern it is under (`*.eu.acme.com`, then `*.acme.com`). The
 * order of the configuration's lists does not matter.
 * @param {Organization} organization
 * @param {string} domain
 * @returns {string[]}
 */
function matchingDomains(organization, domain) {
  const matches = organization.domains?.includes(domain) ? [domain] : [];
  for (let dot = domain.indexOf("."); dot !== -1; dot = domain.indexOf(".", dot + 1)) {
    if (organization.subdomainsOf?.includes(domain.slice(dot + 1))) {
      matches.push(`*.${domain.slice(dot + 1)}`);
    }
  }
  return matches;
}

/**
 * The first of `matches` (`matchingDomains`, the most specific first) for which `connection`
 * may vouch in `organization`: any, unless `trustedConnectionDomains` limits the connection,
 * then one of those it lists. Null when there is none.
 * @param {Organization} organization
 * @param {string[]} matches
 * @param {Connection} connection
 * @returns {string | null}
 */
function vouchedDomain(organization, matches, connection) {
  const limits = organization.trustedConnectionDomains;
  const limit = limits && Object.hasOwn(limits, connection.name) ? limits[connection.name] : null;
  return matches.find((matched) => limit === null || limit.includes(matched)) ?? null;
}

/**
 * Whether a login to the application `clientId` may assign to `organization`.
 * @param {Organization} organization
 * @param {unknown} clientId
 * @returns {boolean}
 */
function applicationAllows(organization, clientId) {
  return !organization.applications || organization.applications.some((id) => id === clientId);
}

/**
 * The rule for a list of organizations, with an index built once (per container, for the
 * Action) so a login looks at the few organizations its connection or domain can match.
 * @param {Organization[]} organizations
 */
function createRule(organizations) {
  const index = buildIndex(organizations);

  /**
   * The organizations whose rule admits the user through `connection`, each with the clause
   * that does (the index narrows, the rule decides).
   * @param {User} user
   * @param {Connection} connection
   * @returns {Admission[]}
   */
  function admittedThrough(user, connection) {
    /** @type {Set<Organization>} */
    const found = new Set();
    for (const clause of CLAUSES) {
      for (const key of clause.keysFor(user, connection)) {
        index.get(key)?.forEach((organization) => found.add(organization));
      }
    }
    return [...found].flatMap((organization) => {
      const decision = decide(organization, user, connection);
      return "admittedBy" in decision ? [{ organization, admittedBy: decision.admittedBy }] : [];
    });
  }

  return {
    /**
     * What a login assigns to: the organizations that admit the user through the login's
     * connection, where the organization lists applications only for a login to one of them.
     * @param {User} user
     * @param {Connection} connection
     * @param {unknown} clientId
     * @returns {Admission[]}
     */
    forLogin(user, connection, clientId) {
      return admittedThrough(user, connection).filter(({ organization }) =>
        applicationAllows(organization, clientId),
      );
    },

    /**
     * The organizations a user is eligible for through any of their identities, whatever the
     * application (the backfill and reconcile: no login tells which), each with the clause
     * that admits them first. Each identity comes through its connection with the strategy
     * Auth0 records as its `provider`.
     * @param {User} user
     * @returns {Admission[]}
     */
    forUser(user) {
      /** @type {Map<Organization, string>} */
      const found = new Map();
      for (const connection of identityConnections(user)) {
        for (const { organization, admittedBy } of admittedThrough(user, connection)) {
          if (!found.has(organization)) {
            found.set(organization, admittedBy);
          }
        }
      }
      return organizations.flatMap((organization) => {
        const admittedBy = found.get(organization);
        return admittedBy === undefined ? [] : [{ organization, admittedBy }];
      });
    },
  };
}

/**
 * A login, as far as the rule reads it: the connection it comes through, the application it is
 * to, and the organization it is to (when it is to one).
 * @typedef {{ connection: Connection, clientId: unknown, organizationId: string | null }} Login
 */

/**
 * What the rule says of `user` for `organization`, and why: the clause that admits them, or
 * the reason it does not. Of a `login`, as the Action decides it; without one, through any of
 * the user's identities, as the backfill and reconcile decide it. The one explanation of the
 * rule, for people asking "why is she (not) in acme?".
 * @param {Organization} organization
 * @param {User} user
 * @param {Login | null} login
 * @returns {{ admittedBy: string } | { refusal: Refusal }}
 */
function explain(organization, user, login) {
  if (login === null) {
    const admitted = createRule([organization]).forUser(user);
    return admitted.length ? { admittedBy: admitted[0].admittedBy } : { refusal: userRefusal(organization, user) ?? "connection-not-in-rule" };
  }
  if (login.organizationId !== null) {
    return { refusal: login.organizationId === organization.id ? "login-to-the-organization" : "login-to-another-organization" };
  }
  const decision = decide(organization, user, login.connection);
  if ("admittedBy" in decision && !applicationAllows(organization, login.clientId)) {
    return { refusal: "application-not-listed" };
  }
  return decision;
}

/**
 * Why `user` is not eligible for `organization` through any identity, or null when they are:
 * the refusal of an identity on one of its connections, if they have one.
 * @param {Organization} organization
 * @param {User} user
 * @returns {Refusal | null}
 */
function userRefusal(organization, user) {
  const refusals = identityConnections(user).map((connection) => refusal(organization, user, connection));
  if (refusals.includes(null)) {
    return null;
  }
  return refusals.find((reason) => reason !== "connection-not-in-rule") ?? refusals[0] ?? "connection-not-in-rule";
}

/**
 * The connections a user's identities come through, each with its recorded strategy.
 * @param {User} user
 * @returns {Connection[]}
 */
function identityConnections(user) {
  const identities = Array.isArray(user.identities) ? user.identities : [];
  return identities.flatMap((identity) =>
    isRecord(identity) && typeof identity.connection === "string" && typeof identity.provider === "string"
      ? [{ name: identity.connection, strategy: identity.provider }]
      : [],
  );
}

/**
 * Each organization under every key its clauses file it under (CLAUSES' `keysOf`).
 * @param {Organization[]} organizations
 * @returns {Map<string, Organization[]>}
 */
function buildIndex(organizations) {
  /** @type {Map<string, Organization[]>} */
  const index = new Map();
  for (const organization of organizations) {
    for (const clause of CLAUSES) {
      if (clause.appliesTo(organization)) {
        for (const key of clause.keysOf(organization)) {
          index.set(key, [...(index.get(key) ?? []), organization]);
        }
      }
    }
  }
  return index;
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

module.exports = {
  CLAUSES,
  createRule,
  decide,
  eligible,
  emailDomain,
  explain,
  identityClaim,
  isRecord,
  refusal,
  userRefusal,
};
